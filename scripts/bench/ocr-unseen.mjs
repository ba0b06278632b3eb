#!/usr/bin/env node
/**
 * The yardstick of every OCR training change: candidate models read the captcha families they
 * never trained on, through the recognizer pool as the server reads them, next to the shipped model
 * and ddddocr, on the same fresh images. Quicker than `npm run bench:ocr` (no server, 200 images a
 * family by default), so that it can run after every training run.
 *
 *   node scripts/bench/ocr-unseen.mjs [--per-family 200] [--seed 77001] [--ddddocr] [--sweep] shipped DIR...
 *
 * `shipped` is packages/ocr/model; a DIR holds an exported ocr.onnx and ocr.json (train.py --out). For each
 * family: accuracy at the default threshold (a declined reading is a miss), accuracy without
 * declining, the decline rate, how often a declined reading was right (issue 17 wants under one in
 * five), and images per second on 2 workers. `--sweep` adds the same at other thresholds, which is
 * for reading only: a threshold is chosen on the validation sources, never on these families.
 * Images are cached under packages/ocr/training/data/unseen-SEED/.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MIN_CONFIDENCE, RecognizerPool } from '@solvebox/ocr';
import { NO_IMAGE_HINTS } from '@solvebox/protocol';
import { DEBIAN_FAMILIES, UNSEEN_SOURCES } from '../../packages/ocr/bench/unseen/sources.mjs';
import { seededRng } from '../../packages/ocr/training/synthetic.mjs';
import { Ddddocr } from './ddddocr.mjs';

const { values, positionals } = parseArgs({
  options: {
    'per-family': { type: 'string', default: '200' },
    seed: { type: 'string', default: '77001' },
    ddddocr: { type: 'boolean', default: false },
    sweep: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const PER_FAMILY = Number(values['per-family']);
const SEED = Number(values.seed);
const training = fileURLToPath(new URL('../../packages/ocr/training/', import.meta.url));
const models = positionals.length > 0 ? positionals : ['shipped'];

const work = join(training, 'data', `unseen-${SEED}`);
mkdirSync(work, { recursive: true });
const families = {};
let offset = 0;
for (const [name, family] of Object.entries(DEBIAN_FAMILIES)) families[name] = family.render(PER_FAMILY, SEED + offset++, join(work, name));
for (const [name, source] of Object.entries(UNSEEN_SOURCES)) {
  Math.random = seededRng(SEED + offset++);
  const samples = [];
  for (let i = 0; i < PER_FAMILY; i++) samples.push(await source.make());
  families[name] = samples;
}

const same = (a, b) => a.toLowerCase() === b.toLowerCase();
const pct = (n, d) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);

/** Accuracy, declines and declined-but-right at one threshold. */
function judge(readings, samples, threshold) {
  let right = 0;
  let declined = 0;
  let declinedRight = 0;
  readings.forEach((r, i) => {
    const correct = 'text' in r && same(r.text, samples[i].text);
    if ('text' in r && r.confidence >= threshold) right += correct ? 1 : 0;
    else {
      declined++;
      declinedRight += correct ? 1 : 0;
    }
  });
  return { right, declined, declinedRight };
}

console.log(`| model | family | accuracy | without declining | declined | declined but right | images/s |`);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const model of models) {
  const pool = await RecognizerPool.start({ size: 2, ...(model === 'shipped' ? {} : { modelDir: resolve(model) }) });
  try {
    for (const [name, samples] of Object.entries(families)) {
      const started = performance.now();
      const readings = await Promise.all(samples.map((s) => pool.recognize(s.image, NO_IMAGE_HINTS)));
      const rate = samples.length / ((performance.now() - started) / 1000);
      const raw = readings.filter((r, i) => 'text' in r && same(r.text, samples[i].text)).length;
      const { right, declined, declinedRight } = judge(readings, samples, DEFAULT_MIN_CONFIDENCE);
      console.log(
        `| ${model} | ${name} | ${pct(right, samples.length)} | ${pct(raw, samples.length)} | ${pct(declined, samples.length)} | ${pct(declinedRight, declined)} | ${rate.toFixed(0)} |`,
      );
      if (values.sweep) {
        for (const threshold of [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) {
          const at = judge(readings, samples, threshold);
          console.log(
            `|  | at ${threshold} | ${pct(at.right, samples.length)} |  | ${pct(at.declined, samples.length)} | ${pct(at.declinedRight, at.declined)} |  |`,
          );
        }
      }
    }
  } finally {
    await pool.close();
  }
}

if (values.ddddocr) {
  const reader = await Ddddocr.load(join(training, 'data', 'bench-cache'));
  for (const [name, samples] of Object.entries(families)) {
    let right = 0;
    for (const s of samples) right += same(await reader.read(s.image), s.text) ? 1 : 0;
    console.log(`| ddddocr | ${name} | ${pct(right, samples.length)} |  |  |  |  |`);
  }
}
