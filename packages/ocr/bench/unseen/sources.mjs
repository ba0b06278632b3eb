/**
 * Captcha families the model never trains on (the training data comes only from
 * ../../training/sources.mjs, whose renderer also leaves out the fonts these families draw with).
 * The benchmark reads them to measure how far the model carries to styles it has not seen.
 *
 * - `UNSEEN_SOURCES`: npm generators, each "make one captcha and its answer", drawing from
 *   Math.random (which the benchmark seeds);
 * - `DEBIAN_FAMILIES`: generators from Debian packages (setup.sh installs them), each rendering a
 *   batch with its package's default settings into a folder, with `labels.tsv` (file TAB answer).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const require = createRequire(import.meta.url);
const here = fileURLToPath(new URL('.', import.meta.url));

/** Reads a rendered batch: its images and answers, in file order. */
function readBatch(dir) {
  return readFileSync(join(dir, 'labels.tsv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [file, text] = line.split('\t');
      return { text, image: readFileSync(join(dir, file)) };
    });
}

export const DEBIAN_FAMILIES = {
  // PHP: 5 characters of a-z (no o), 1-9 and A-Z, 150 × 40 JPEG, colour, lines, distortion.
  'gregwar-captcha': {
    caseSensitive: false,
    render: (count, seed, dir) => {
      mkdirSync(dir, { recursive: true });
      execFileSync('php', [join(here, 'gregwar.php'), String(count), String(seed), dir]);
      return readBatch(dir);
    },
  },
  // Python: 4 letters, rotated, with arcs and dots, a PNG about 75 × 36.
  'django-simple-captcha': {
    caseSensitive: false,
    render: (count, seed, dir) => {
      mkdirSync(dir, { recursive: true });
      execFileSync('/usr/bin/python3', [join(here, 'django-captcha.py'), String(count), String(seed), dir]);
      return readBatch(dir);
    },
  },
};

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
