#!/usr/bin/env node
/**
 * The learning curve of `solvebox ocr adapt` on captcha families the shipped model never trained
 * on (Gregwar/Captcha and django-simple-captcha, from Debian's packages): accuracy on fresh images
 * after adapting to 0, 100, 300, 1 000 and 3 000 labelled samples of the family, the minutes each
 * took (the whole adaptation: rendering the replay, training, validating, export), and the mean over our own validation sources before and after. Adapted models are
 * per-deployment and never shipped; the shipped model still never trains on these families.
 *
 *   node scripts/bench/ocr-adapt-curve.mjs [--families gregwar-captcha,django-simple-captcha]
 *        [--sizes 0,100,300,1000,3000] [--minutes 30 | --minutes 0,10,10,30,30] [--fresh 300] [--seed 81001] [--replay 1000]
 *        [--distill 0.5] [--samples-weight 1] [--lr 3e-4] [--max-drop 0.01]
 *
 * Hours of CPU: one adaptation per family and size. Needs packages/ocr/training/setup.sh and
 * packages/ocr/bench/unseen/setup.sh (both run here).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MIN_CONFIDENCE, RecognizerPool } from '@solvebox/ocr';
import { AdaptError, adaptModel } from '@solvebox/ocr/adapt';
import { NO_IMAGE_HINTS } from '@solvebox/protocol';

const { values } = parseArgs({
  options: {
    families: { type: 'string', default: 'gregwar-captcha,django-simple-captcha' },
    sizes: { type: 'string', default: '0,100,300,1000,3000' },
    minutes: { type: 'string', default: '30' },
    fresh: { type: 'string', default: '300' },
    seed: { type: 'string', default: '81001' },
    replay: { type: 'string', default: '1000' },
    distill: { type: 'string', default: '0.5' },
    'samples-weight': { type: 'string', default: '1' },
    lr: { type: 'string', default: '3e-4' },
    'max-drop': { type: 'string', default: '0.01' },
  },
});
const ocr = fileURLToPath(new URL('../../packages/ocr/', import.meta.url));
execFileSync(join(ocr, 'training', 'setup.sh'), { stdio: 'inherit' });
execFileSync(join(ocr, 'bench', 'unseen', 'setup.sh'), { stdio: 'inherit' });
const { DEBIAN_FAMILIES } = await import('../../packages/ocr/bench/unseen/sources.mjs');

const sizes = values.sizes.split(',').map(Number);
// One budget for every size, or one per size (fewer samples learn what they can sooner).
const minutes = values.minutes.split(',').map(Number);
if (minutes.length !== 1 && minutes.length !== sizes.length) throw new Error('--minutes: one value, or one per --sizes entry');
const minutesFor = (i) => minutes[minutes.length === 1 ? 0 : i];
const largest = Math.max(...sizes);
const seed = Number(values.seed);
const work = mkdtempSync(join(tmpdir(), 'solvebox-adapt-curve-'));
const same = (a, b) => a.toLowerCase() === b.toLowerCase();

/**
 * Accuracy through the pool: `accuracy` at the default threshold (a declined reading is a miss, as
 * a client sees it), `undeclined` counting every reading.
 */
async function accuracy(modelDir, samples) {
  const pool = await RecognizerPool.start({ size: 2, ...(modelDir ? { modelDir } : {}) });
  try {
    const readings = await Promise.all(samples.map((s) => pool.recognize(s.image, NO_IMAGE_HINTS)));
    const right = readings.map((r, i) => 'text' in r && same(r.text, samples[i].text));
    return {
      accuracy: readings.filter((r, i) => right[i] && r.confidence >= DEFAULT_MIN_CONFIDENCE).length / samples.length,
      undeclined: right.filter(Boolean).length / samples.length,
    };
  } finally {
    await pool.close();
  }
}

const rows = [];
try {
  for (const [f, family] of values.families.split(',').entries()) {
    const source = DEBIAN_FAMILIES[family];
    if (!source) throw new Error(`unknown family ${family}; one of ${Object.keys(DEBIAN_FAMILIES).join(', ')}`);
    const fresh = source.render(Number(values.fresh), seed + 2 * f, join(work, family, 'fresh'));
    const pool = largest > 0 ? source.render(largest, seed + 2 * f + 1, join(work, family, 'pool')) : [];
    for (const [i, size] of sizes.entries()) {
      if (size === 0) {
        rows.push({ family, samples: 0, minutes: 0, ...(await accuracy(undefined, fresh)) });
        console.error(`${family}: shipped model ${(rows.at(-1).accuracy * 100).toFixed(1)} %`);
        continue;
      }
      const samplesDir = join(work, family, `samples-${size}`);
      mkdirSync(samplesDir, { recursive: true });
      writeFileSync(
        join(samplesDir, 'labels.tsv'),
        pool
          .slice(0, size)
          .map((s, i) => (writeFileSync(join(samplesDir, `${i}.img`), s.image), `${i}.img\t${s.text}\n`))
          .join(''),
      );
      const out = join(work, family, `model-${size}`);
      const started = performance.now();
      let report;
      try {
        report = await adaptModel({
          samplesDir,
          out,
          minutes: minutesFor(i),
          replayPerSource: Number(values.replay),
          maxDrop: Number(values['max-drop']),
          distill: Number(values.distill),
          samplesWeight: Number(values['samples-weight']),
          learningRate: Number(values.lr),
          onLine: (line) => /^eval/.test(line) && console.error(`${family} ${size}: ${line}`),
        });
      } catch (err) {
        // Refused: every checkpoint read our sources worse than --max-drop allows; no model to measure.
        if (!(err instanceof AdaptError) || err.reason !== 'refused' || !err.report) throw err;
        const { ourSourcesBefore, ourSourcesAfter } = err.report;
        rows.push({
          family,
          samples: size,
          minutes: (performance.now() - started) / 60_000,
          refused: true,
          oursBefore: ourSourcesBefore,
          oursAfter: ourSourcesAfter,
        });
        console.error(`${family} ${size}: refused`);
        continue;
      }
      rows.push({
        family,
        samples: size,
        minutes: (performance.now() - started) / 60_000,
        ...(await accuracy(out, fresh)),
        oursBefore: report.ourSourcesBefore,
        oursAfter: report.ourSourcesAfter,
      });
      console.error(`${family} ${size}: ${(rows.at(-1).accuracy * 100).toFixed(1)} %`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const pct = (x) => (x === undefined ? '' : `${(x * 100).toFixed(1)} %`);
console.log(`| family | samples | minutes | fresh images read | without declining | our sources before → after |`);
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  console.log(
    `| ${r.family} | ${r.samples} | ${r.minutes.toFixed(1)} | ${r.refused ? 'refused' : pct(r.accuracy)} | ${pct(r.undeclined)} | ${r.oursBefore === undefined ? '' : `${pct(r.oursBefore)} → ${pct(r.oursAfter)}`} |`,
  );
}
