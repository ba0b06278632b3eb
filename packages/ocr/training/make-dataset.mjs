#!/usr/bin/env node
/**
 * Renders captchas from the sources and stores them preprocessed exactly as the server will see
 * them (packages/ocr's own `preprocess`), packed for PyTorch:
 *   <out>/<split>/<source>.u8   N × INPUT_HEIGHT × INPUT_WIDTH grey bytes
 *   <out>/<split>/<source>.txt  N answers, one per line
 * With --originals, the image bytes as served are kept too (<source>.images: 4-byte length + bytes).
 *
 * Usage: node make-dataset.mjs --out DIR --split train --source synthetic --count 1000 [--seed 1] [--originals]
 *
 * Or packs a folder of labelled images (`DIR/labels.tsv`: file TAB answer), as `solvebox ocr adapt`
 * does with a deployment's samples: every fifth image goes to the val split, the rest to train.
 *   node make-dataset.mjs --out DIR --labelled FOLDER --name samples
 */
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
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
    labelled: { type: 'string' },
    name: { type: 'string', default: 'samples' },
  },
});

if (values.labelled !== undefined) {
  const lines = readFileSync(join(values.labelled, 'labels.tsv'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  const splits = ['train', 'val'].map((split) => {
    mkdirSync(join(values.out, split), { recursive: true });
    return {
      pixels: createWriteStream(join(values.out, split, `${values.name}.u8`)),
      labels: createWriteStream(join(values.out, split, `${values.name}.txt`)),
      count: 0,
    };
  });
  for (const [i, line] of lines.entries()) {
    const [file, text] = line.split('\t');
    if (!file || !text || /[\r]/.test(text)) throw new Error(`labels.tsv line ${i + 1}: expected "file<TAB>answer"`);
    const to = splits[i % 5 === 4 ? 1 : 0];
    to.pixels.write(await preprocess(readFileSync(join(values.labelled, file))));
    to.labels.write(`${text}\n`);
    to.count++;
  }
  await Promise.all(splits.flatMap((s) => [s.pixels, s.labels]).map((stream) => new Promise((resolve) => stream.end(resolve))));
  console.log(`${values.name}: ${splits[0].count} train, ${splits[1].count} val`);
  process.exit(0);
}

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
