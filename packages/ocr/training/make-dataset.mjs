#!/usr/bin/env node
/**
 * Renders captchas from the sources and stores them preprocessed exactly as the server will see
 * them (packages/ocr's own `preprocess`), packed for PyTorch:
 *   <out>/<split>/<source>.u8   N × INPUT_HEIGHT × INPUT_WIDTH grey bytes
 *   <out>/<split>/<source>.txt  N answers, one per line
 * With --originals, the image bytes as served are kept too (<source>.images: 4-byte length + bytes).
 *
 * Usage: node make-dataset.mjs --out DIR --split train --source synthetic --count 1000 [--seed 1] [--originals]
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { preprocess } from '@solvebox/ocr/preprocess';
import { SOURCES } from './sources.mjs';
import { seededRng } from './synthetic.mjs';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'data' },
    split: { type: 'string', default: 'train' },
    source: { type: 'string' },
    count: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    originals: { type: 'boolean', default: false },
  },
});

const source = SOURCES[values.source ?? ''];
if (!source) throw new Error(`--source must be one of ${Object.keys(SOURCES).join(', ')}`);
const count = Number(values.count);
const dir = join(values.out, values.split);
mkdirSync(dir, { recursive: true });

// Third-party generators draw from Math.random; seeding it makes their runs repeatable too
// (trek-captcha and captcha-canvas also use crypto, so theirs are only mostly repeatable).
const rng = seededRng(Number(values.seed));
Math.random = rng;

const pixels = createWriteStream(join(dir, `${values.source}.u8`));
const labels = createWriteStream(join(dir, `${values.source}.txt`));
const originals = values.originals ? createWriteStream(join(dir, `${values.source}.images`)) : undefined;
const started = performance.now();
for (let i = 0; i < count; i += 1) {
  const { text, image } = await source.make(rng);
  if (/[\n\r]/.test(text) || text.length === 0) throw new Error(`bad answer ${JSON.stringify(text)} from ${values.source}`);
  pixels.write(await preprocess(image));
  labels.write(`${text}\n`);
  if (originals) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(image.length);
    originals.write(length);
    originals.write(image);
  }
}
await Promise.all([pixels, labels, originals].filter(Boolean).map((s) => new Promise((resolve) => s.end(resolve))));
console.log(`${values.source} ${values.split}: ${count} images in ${((performance.now() - started) / 1000).toFixed(1)} s`);
