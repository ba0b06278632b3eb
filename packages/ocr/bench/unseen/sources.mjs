/**
 * Captcha families the model never trains on (the training data comes only from
 * ../../training/sources.mjs). The benchmark reads them to show how far the model carries to a
 * style it has not seen. Each source: make one captcha and its answer, drawing from Math.random
 * (which the benchmark seeds).
 */
import { createRequire } from 'node:module';
import sharp from 'sharp';

const require = createRequire(import.meta.url);

export const UNSEEN_SOURCES = {
  // A port of a small C captcha: 5 lower-case letters, wavy, with a curve through them; a GIF.
  'captcha.gif': {
    caseSensitive: false,
    make: () => {
      const { Captcha } = require('captcha.gif');
      const { token, buffer } = new Captcha().generate();
      return { text: token, image: buffer };
    },
  },
  // A fork of svg-captcha whose letters are single wobbly outlines; 4 characters, mixed case,
  // without look-alikes (as its README advises), rasterised by sharp.
  'ppfun-captcha': {
    caseSensitive: true,
    make: async () => {
      const { data, text } = require('ppfun-captcha').create({ ignoreChars: '0oO1iIl' });
      return { text, image: await sharp(Buffer.from(data)).flatten({ background: '#ffffff' }).png().toBuffer() };
    },
  },
};
