/**
 * Where training and benchmark images come from: our own synthetic renderer (synthetic.mjs) and
 * the third-party npm generators the OCR issue allows, and only those. Each source makes one
 * captcha at a time as the bytes a website would serve, with its answer.
 *
 * Quirks handled here (see ../../../../shared/reference/ocr.md):
 * - @haileybot/captcha-generator and captcha-canvas need `canvas`; package.json overrides it with
 *   @napi-rs/canvas, which lacks `registerFont` and whose `toBuffer()` needs a MIME type.
 * - node-captcha-generator's image is MNIST digits in RGB under an alpha of about 0: we serve what
 *   a site would have to serve for a person to read it, the digits black on white.
 */
import { createRequire } from 'node:module';
import { renderSynthetic } from './synthetic.mjs';

const require = createRequire(import.meta.url);

const napiCanvas = require('canvas');
napiCanvas.registerFont ??= (path, { family }) => napiCanvas.GlobalFonts.registerFromPath(path, family);
const canvasPrototype = Object.getPrototypeOf(napiCanvas.createCanvas(1, 1));
const originalToBuffer = canvasPrototype.toBuffer;
canvasPrototype.toBuffer = function toBuffer(mime = 'image/png', ...rest) {
  return originalToBuffer.call(this, mime, ...rest);
};

const sharp = require('sharp');
const svgCaptcha = require('svg-captcha');
const trekCaptcha = require('trek-captcha');
const Captchapng = require('captchapng');
const NodeCaptcha = require('node-captcha-generator');
const HaileyCaptcha = require('@haileybot/captcha-generator');
const { CaptchaGenerator } = require('captcha-canvas');

/** svg-captcha's README suggests `ignoreChars: '0o1i'`; we also drop l, I and O, which its font draws alike. */
const SVG_IGNORE = '0oO1iIl';

/**
 * @typedef {{ text: string, image: Buffer }} Sample
 * @typedef {{ caseSensitive: boolean, make: (rng: () => number) => Promise<Sample> }} Source
 * @type {Record<string, Source>}
 */
export const SOURCES = {
  synthetic: { caseSensitive: true, make: (rng) => renderSynthetic(rng) },
  'svg-captcha-easy': {
    caseSensitive: true,
    make: async () => {
      const { text, data } = svgCaptcha.create({ size: 4, noise: 1, ignoreChars: SVG_IGNORE });
      return { text, image: await sharp(Buffer.from(data)).png().toBuffer() };
    },
  },
  'svg-captcha-hard': {
    caseSensitive: true,
    make: async () => {
      const { text, data } = svgCaptcha.create({ size: 6, noise: 4, color: true, background: '#f4e8d0', ignoreChars: SVG_IGNORE });
      return { text, image: await sharp(Buffer.from(data)).png().toBuffer() };
    },
  },
  'trek-captcha': {
    caseSensitive: false,
    make: async () => {
      const { token, buffer } = await trekCaptcha({ size: 5 });
      return { text: token, image: buffer };
    },
  },
  captchapng: {
    caseSensitive: false,
    make: async (rng) => {
      const text = String(Math.floor(rng() * 9000 + 1000));
      const png = new Captchapng(80, 30, Number(text));
      png.color(0, 0, 0, 0);
      png.color(80, 80, 80, 255);
      return { text, image: Buffer.from(png.getBase64(), 'base64') };
    },
  },
  'node-captcha-generator': {
    caseSensitive: false,
    make: async () => {
      const captcha = newNodeCaptcha();
      const raw = await new Promise((resolve, reject) => captcha.captcha.getBuffer('image/png', (err, buf) => (err ? reject(err) : resolve(buf))));
      const image = await sharp(raw).removeAlpha().negate().png().toBuffer();
      return { text: String(captcha.value), image };
    },
  },
  haileybot: {
    caseSensitive: false,
    make: async () => {
      const captcha = new HaileyCaptcha();
      const image = Buffer.from(captcha.dataURL.split(',')[1], 'base64');
      return { text: captcha.value, image };
    },
  },
  'captcha-canvas': {
    caseSensitive: false,
    make: async () => {
      const captcha = new CaptchaGenerator({ height: 100, width: 300 });
      return { text: captcha.text, image: await captcha.generate() };
    },
  },
};

/**
 * node-captcha-generator picks a digit with lodash's `_.random(length)`, whose upper bound is
 * inclusive: about once in 10 000 digits it reads past the end of its MNIST set and throws. Draw again.
 */
function newNodeCaptcha() {
  for (;;) {
    try {
      return new NodeCaptcha({ length: 5, size: { width: 450, height: 200 } });
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
    }
  }
}
