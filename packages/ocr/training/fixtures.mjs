#!/usr/bin/env node
/**
 * Writes the committed test fixtures: two captchas from each training source, as the image files a
 * site serves, with their answers in test/fixtures/fixtures.json. parity.mjs then records what
 * PyTorch makes of them.
 *
 * The fixtures check plumbing (decoding, the worker pool, the server, the CLI), not accuracy,
 * which the benchmark measures on hundreds of held-out images per source. So this keeps the first
 * images per source that the shipped model reads right, and surely enough for the server to answer:
 * a test that fails then means something between the bytes and the answer broke, not that the
 * model met a hard captcha.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NO_IMAGE_HINTS } from '@solvebox/protocol';
import { DEFAULT_MIN_CONFIDENCE, RecognizerPool } from '@solvebox/ocr';
import { SOURCES } from './sources.mjs';
import { seededRng } from './synthetic.mjs';

const dir = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const rng = seededRng(424242);
Math.random = rng;
const pool = await RecognizerPool.start({ size: 1 });
const MIN_CONFIDENCE = DEFAULT_MIN_CONFIDENCE;
const hints = (caseSensitive) => ({ ...NO_IMAGE_HINTS, caseSensitive });

const extension = (image) => (image[0] === 0xff ? 'jpg' : image[0] === 0x47 ? 'gif' : 'png');
const fixtures = [];
let skipped = 0;
for (const [source, { caseSensitive, make }] of Object.entries(SOURCES)) {
  for (let i = 1; i <= 2; ) {
    const sample = await make(rng);
    // Phrases and arithmetic need their hints; the fixtures are plain answers.
    if (/[ +*=?-]/.test(sample.text)) continue;
    const reading = await pool.recognize(sample.image, hints(caseSensitive));
    const same = (a, b) => (caseSensitive ? a === b : a.toLowerCase() === b.toLowerCase());
    // Read right, and surely enough that the server's default --ocr-min-confidence answers it.
    if (!('text' in reading) || !same(reading.text, sample.text) || reading.confidence < MIN_CONFIDENCE) {
      skipped++;
      continue;
    }
    const file = `${source}-${i}.${extension(sample.image)}`;
    writeFileSync(dir + file, sample.image);
    fixtures.push({ file, source, answer: sample.text, caseSensitive });
    i++;
  }
}
await pool.close();
writeFileSync(`${dir}fixtures.json`, `${JSON.stringify(fixtures, null, 2)}\n`);
console.log(`wrote ${fixtures.length} fixtures to ${dir} (passed over ${skipped} the model misread or doubted)`);
