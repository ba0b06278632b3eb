#!/usr/bin/env node
/**
 * Writes the committed test fixtures: two captchas from each training source, as the image files a
 * site serves, with their answers in test/fixtures/fixtures.json. Run once; parity.mjs then records
 * what the trained model makes of them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SOURCES } from './sources.mjs';
import { seededRng } from './synthetic.mjs';

const dir = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
mkdirSync(dir, { recursive: true });
const rng = seededRng(424242);
Math.random = rng;

const extension = (image) => (image[0] === 0xff ? 'jpg' : image[0] === 0x47 ? 'gif' : 'png');
const fixtures = [];
for (const [source, { caseSensitive, make }] of Object.entries(SOURCES)) {
  for (let i = 1; i <= 2; i++) {
    let sample;
    // Phrases and arithmetic need their hints; the fixtures are plain answers.
    do sample = await make(rng);
    while (/[ +*=?-]/.test(sample.text));
    const file = `${source}-${i}.${extension(sample.image)}`;
    writeFileSync(dir + file, sample.image);
    fixtures.push({ file, source, answer: sample.text, caseSensitive });
  }
}
writeFileSync(dir + 'fixtures.json', JSON.stringify(fixtures, null, 2) + '\n');
console.log(`wrote ${fixtures.length} fixtures to ${dir}`);
