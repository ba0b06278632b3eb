#!/usr/bin/env node
/**
 * The second part of `npm run bench:ocr` (the first, scripts/bench/ocr-server.mjs, measures the
 * families the model never trained on and the solve latency through a real server): our OCR model
 * against Tesseract on a fresh held-out split of every source the model trained on (seeds no
 * training or validation run used). Nothing here runs in CI.
 *
 * Options: --per-source N (300), --tesseract-per-source N (100), --workers N (CPUs)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MIN_CONFIDENCE as MIN_CONFIDENCE, RecognizerPool, evaluate } from '@solvebox/ocr';
import { NO_IMAGE_HINTS } from '@solvebox/protocol';

const { values } = parseArgs({
  options: {
    'per-source': { type: 'string', default: '300' },
    'tesseract-per-source': { type: 'string', default: '100' },
    workers: { type: 'string', default: String(availableParallelism()) },
  },
});
const PER_SOURCE = Number(values['per-source']);
const TESS_PER_SOURCE = Number(values['tesseract-per-source']);
const WORKERS = Number(values.workers);
const training = fileURLToPath(new URL('../training/', import.meta.url));

/**
 * Whether each source's answers are case-sensitive, and the `numeric` hint a client who knows it
 * sends: 1 (digits only) for the generators that draw nothing else. `length` is the answer length
 * of a generator that draws only one: the bench reads those a second time with min_len = max_len =
 * length, which such a client can send too, and reports it in its own table.
 */
const SOURCES = {
  synthetic: { caseSensitive: true, numeric: 0 },
  'svg-captcha-easy': { caseSensitive: true, numeric: 0, length: 4 },
  'svg-captcha-hard': { caseSensitive: true, numeric: 0, length: 6 },
  'trek-captcha': { caseSensitive: false, numeric: 0, length: 5 },
  captchapng: { caseSensitive: false, numeric: 1, length: 4 },
  'node-captcha-generator': { caseSensitive: false, numeric: 1, length: 5 },
  haileybot: { caseSensitive: false, numeric: 0, length: 6 },
  'captcha-canvas': { caseSensitive: false, numeric: 0, length: 6 },
};

// ---- held-out data ---------------------------------------------------------------------------
execFileSync(join(training, 'setup.sh'), { stdio: 'inherit' });
const heldOut = join(training, 'data', `test-${PER_SOURCE}`);
let seed = 77001;
for (const source of Object.keys(SOURCES)) {
  if (!existsSync(join(heldOut, 'test', `${source}.images`))) {
    execFileSync(
      process.execPath,
      [
        join(training, 'make-dataset.mjs'),
        '--out',
        heldOut,
        '--split',
        'test',
        '--source',
        source,
        '--count',
        String(PER_SOURCE),
        '--seed',
        String(seed),
        '--originals',
      ],
      {
        stdio: 'inherit',
      },
    );
  }
  seed += 1;
}

/**
 * The held-out images of a source, each with the hints a client who knows its captchas would send
 * (phrase=1 for two words, calc=1 for arithmetic) and the answer the server must give then (for
 * calc, the result). Without those hints the reader is told no space and no operator can occur.
 */
function loadHeldOut(source) {
  const blob = readFileSync(join(heldOut, 'test', `${source}.images`));
  const answers = readFileSync(join(heldOut, 'test', `${source}.txt`), 'utf8').split('\n');
  const samples = [];
  for (let offset = 0, i = 0; offset < blob.length; i++) {
    const length = blob.readUInt32LE(offset);
    const answer = answers[i];
    const calc = CALC.test(answer);
    samples.push({
      image: blob.subarray(offset + 4, offset + 4 + length),
      answer,
      expected: calc ? evaluate(answer) : answer,
      hints: { ...hintsFor(SOURCES[source]), phrase: answer.includes(' '), calc },
    });
    offset += 4 + length;
  }
  return samples;
}

const CALC = /^\d+[+*-]\d+=?\??$/;

// ---- scoring -----------------------------------------------------------------------------------
function editDistance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

function score(samples, predictions, target = (sample) => sample.expected) {
  let exact = 0;
  let folded = 0;
  let edits = 0;
  let chars = 0;
  samples.forEach((sample, i) => {
    const answer = target(sample);
    const p = predictions[i] ?? '';
    if (p === answer) exact++;
    if (p.toLowerCase() === answer.toLowerCase()) folded++;
    edits += editDistance(p, answer);
    chars += answer.length;
  });
  return { exact: exact / samples.length, folded: folded / samples.length, cer: edits / chars };
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

const hintsFor = ({ caseSensitive, numeric = 0 }) => ({ ...NO_IMAGE_HINTS, caseSensitive, numeric });

// ---- ours --------------------------------------------------------------------------------------
/** Reads the samples one at a time, each with its own hints plus `extraHints`. */
async function readAll(pool, samples, extraHints = {}) {
  const latencies = [];
  const predictions = [];
  const confidences = [];
  for (const { image, hints } of samples) {
    const started = performance.now();
    const r = await pool.recognize(image, { ...hints, ...extraHints });
    latencies.push(performance.now() - started);
    predictions.push('text' in r ? r.text : '');
    confidences.push(r.confidence);
  }
  return { latencies, predictions, confidences };
}

async function benchOurs(pool, samples) {
  const { latencies, predictions, confidences } = await readAll(pool, samples);
  // What the server's default --ocr-min-confidence does: readings below it are declined, not answered.
  const accepted = samples.flatMap((s, i) => (confidences[i] >= MIN_CONFIDENCE ? [i] : []));
  const acceptedRight = accepted.filter((i) => predictions[i].toLowerCase() === samples[i].expected.toLowerCase()).length;
  const declined = 1 - accepted.length / samples.length;
  const acceptedAccuracy = accepted.length ? acceptedRight / accepted.length : 0;
  // Throughput: everything queued at once, the pool warm.
  const started = performance.now();
  await Promise.all(samples.map(({ image, hints }) => pool.recognize(image, hints)));
  const perSecond = samples.length / ((performance.now() - started) / 1000);
  return { ...score(samples, predictions), p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), perSecond, declined, acceptedAccuracy };
}

/** Accuracy when the client also sends min_len = max_len = the generator's one answer length. */
async function benchLengthHinted(pool, samples, length) {
  const { predictions } = await readAll(pool, samples, { minLength: length, maxLength: length });
  return score(samples, predictions);
}

// ---- Tesseract ---------------------------------------------------------------------------------
const TESS_WHITELIST = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function tesseract(file, whitelist) {
  return new Promise((resolve) => {
    const child = spawn('tesseract', [file, 'stdout', '--psm', '7', '-c', `tessedit_char_whitelist=${whitelist}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () => resolve(out.replace(/\s+/g, '')));
  });
}

async function benchTesseract(samples, work) {
  // Tesseract gets the same hint as our model: a digits-only source is read with digits only.
  const whitelist = samples[0]?.hints.numeric === 1 ? '0123456789' : TESS_WHITELIST;
  const files = samples.map(({ image }, i) => {
    const file = join(work, `${i}.${image[0] === 0xff ? 'jpg' : image[0] === 0x47 ? 'gif' : 'png'}`);
    writeFileSync(file, image);
    return file;
  });
  const latencies = [];
  const predictions = [];
  for (const file of files) {
    const started = performance.now();
    predictions.push(await tesseract(file, whitelist));
    latencies.push(performance.now() - started);
  }
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < files.length) await tesseract(files[next++], whitelist);
    }),
  );
  const perSecond = files.length / ((performance.now() - started) / 1000);
  // Tesseract reads no spaces or operators here: it is scored on the answer's characters alone.
  return {
    ...score(samples, predictions, ({ answer }) => answer.replace(/[^0-9a-zA-Z]/g, '')),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    perSecond,
  };
}

// ---- run ---------------------------------------------------------------------------------------
const pool = await RecognizerPool.start({ size: WORKERS });
const warm = loadHeldOut('synthetic').slice(0, 50);
await Promise.all(warm.map(({ image, hints }) => pool.recognize(image, hints)));

const pct = (x) => `${(100 * x).toFixed(1)}%`;
const ms = (x) => `${x.toFixed(1)}`;
const rows = [];
const work = mkdtempSync(join(tmpdir(), 'solvebox-tess-'));
try {
  for (const [source, { caseSensitive, length }] of Object.entries(SOURCES)) {
    const samples = loadHeldOut(source);
    const ours = await benchOurs(pool, samples);
    const hinted = length ? await benchLengthHinted(pool, samples, length) : undefined;
    const tess = await benchTesseract(samples.slice(0, TESS_PER_SOURCE), work);
    rows.push({ source, caseSensitive, n: samples.length, ours, hinted, tess });
    process.stderr.write(`${source} done\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  await pool.close();
}

console.log(`\nOCR on held-out splits: ${PER_SOURCE} images per source (Tesseract: the first ${TESS_PER_SOURCE}), ${WORKERS} workers, pool warmed\n`);
console.log(
  '| source | case-sensitive source | ours: exact | ours: ignoring case | ours: CER | ours: p50 ms | ours: p99 ms | ours: img/s | Tesseract: ignoring case | Tesseract: CER | Tesseract: p50 ms | Tesseract: img/s | accuracy ×, ignoring case | speed × |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { source, caseSensitive, ours, tess } of rows) {
  const accuracyRatio = tess.folded > 0 ? `${(ours.folded / tess.folded).toFixed(1)}×` : '∞ (Tesseract 0)';
  console.log(
    `| ${source} | ${caseSensitive ? 'yes' : 'no'} | ${pct(ours.exact)} | ${pct(ours.folded)} | ${ours.cer.toFixed(3)} | ${ms(ours.p50)} | ${ms(ours.p99)} | ${ours.perSecond.toFixed(0)} | ${pct(tess.folded)} | ${tess.cer.toFixed(3)} | ${ms(tess.p50)} | ${tess.perSecond.toFixed(1)} | ${accuracyRatio} | ${(ours.perSecond / tess.perSecond).toFixed(0)}× |`,
  );
}
console.log('\nWith min_len = max_len = the answer length too, for the generators that draw only one length:\n');
console.log('| source | length | ours: exact | ours: ignoring case | without the length hint, ignoring case |');
console.log('|---|---|---|---|---|');
for (const { source, ours, hinted } of rows) {
  if (hinted) console.log(`| ${source} | ${SOURCES[source].length} | ${pct(hinted.exact)} | ${pct(hinted.folded)} | ${pct(ours.folded)} |`);
}
console.log(
  `\nWith the server's default --ocr-min-confidence ${MIN_CONFIDENCE}, readings below it are declined (ERROR_CAPTCHA_UNSOLVABLE or the fallback solver):\n`,
);
console.log('| source | declined | accuracy of the answers given, ignoring case |');
console.log('|---|---|---|');
for (const { source, ours } of rows) console.log(`| ${source} | ${pct(ours.declined)} | ${pct(ours.acceptedAccuracy)} |`);
