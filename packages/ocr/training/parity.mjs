#!/usr/bin/env node
/**
 * Records what PyTorch makes of each committed fixture (test/fixtures/parity.json): the SHA-256 of
 * the preprocessed pixels, and per model column the best class and its log-probability. The test
 * suite runs the same fixtures through Node's preprocessing and onnxruntime and must agree, so
 * preprocessing and export can never drift from training unnoticed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preprocess } from '@solvebox/ocr/preprocess';

const dir = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const fixtures = JSON.parse(readFileSync(`${dir}fixtures.json`, 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'solvebox-parity-'));
const pixels = [];
for (const { file } of fixtures) pixels.push(await preprocess(readFileSync(dir + file)));
writeFileSync(join(work, 'pixels.u8'), Buffer.concat(pixels));
const torchOut = JSON.parse(
  execFileSync('/usr/bin/python3', [fileURLToPath(new URL('parity.py', import.meta.url)), join(work, 'pixels.u8'), '../model/ocr.pt'], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  }),
);
const parity = fixtures.map(({ file }, i) => ({
  file,
  pixelsSha256: createHash('sha256').update(pixels[i]).digest('hex'),
  ...torchOut[i],
}));
writeFileSync(`${dir}parity.json`, `${JSON.stringify(parity)}\n`);
for (const [i, f] of fixtures.entries()) console.log(f.file, JSON.stringify(f.answer), '→', JSON.stringify(torchOut[i].greedy));
