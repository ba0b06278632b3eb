#!/usr/bin/env node
/**
 * The OCR end to end, through a real server (the package's own benchmark is
 * packages/ocr/bench/ocr-bench.mjs). `npm run bench:ocr` runs this first.
 *
 * 1. Captcha families the model never trained on, Solvebox against ddddocr in the same run, on the
 *    same fresh images (packages/ocr/bench/unseen/).
 * 2. The solve latency: in.php base64 submit → res.php answer, one at a time, on fresh images of our
 *    synthetic renderer.
 *
 * - Solvebox is measured through in.php / res.php of a server in its default configuration (image
 *   tasks to the OCR backend, the default --ocr-min-confidence): a declined reading answers
 *   ERROR_CAPTCHA_UNSOLVABLE and counts as a miss.
 * - The same images are also read straight from the recognizer pool, so that the table can say
 *   what declining costs: how often a declined reading would have been right.
 * - ddddocr (bench/ddddocr.mjs) reads each image with its default model and with its beta model.
 *
 * Options: --per-family N (300), --seed S (a fresh one per run unless given), --workers N (CPUs)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MIN_CONFIDENCE, RecognizerPool } from '@solvebox/ocr';
import { NO_IMAGE_HINTS } from '@solvebox/protocol';
import { configWith, createAccount, startServer } from '@solvebox/server';
import { Ddddocr } from './ddddocr.mjs';

const { values } = parseArgs({
  options: {
    'per-family': { type: 'string', default: '300' },
    'latency-images': { type: 'string', default: '200' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    workers: { type: 'string', default: String(availableParallelism()) },
  },
});
const PER_FAMILY = Number(values['per-family']);
const SEED = Number(values.seed);
const WORKERS = Number(values.workers);
const ocr = fileURLToPath(new URL('../../packages/ocr/', import.meta.url));
const cache = join(ocr, 'training', 'data', 'bench-cache');

execFileSync(join(ocr, 'bench', 'unseen', 'setup.sh'), { stdio: 'inherit' });
execFileSync(join(ocr, 'training', 'setup.sh'), { stdio: 'inherit' });
const { DEBIAN_FAMILIES, UNSEEN_SOURCES } = await import('../../packages/ocr/bench/unseen/sources.mjs');
const { renderSynthetic, seededRng } = await import('../../packages/ocr/training/synthetic.mjs');

/** Fresh images of every family: `{ family: [{ image, text }] }`. */
async function drawFamilies(work) {
  const families = {};
  let offset = 0;
  for (const [name, family] of Object.entries(DEBIAN_FAMILIES)) {
    families[name] = family.render(PER_FAMILY, SEED + offset++, join(work, name));
  }
  for (const [name, source] of Object.entries(UNSEEN_SOURCES)) {
    Math.random = seededRng(SEED + offset++);
    const samples = [];
    for (let i = 0; i < PER_FAMILY; i++) samples.push(await source.make());
    families[name] = samples;
  }
  return families;
}

const same = (a, b) => a.toLowerCase() === b.toLowerCase();

/** Every image through in.php (base64) and res.php of a default server, `concurrency` at a time. */
async function throughServer(server, key, samples, concurrency = 8) {
  const answers = new Array(samples.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < samples.length) {
        const i = next++;
        const submit = await fetch(`${server.url}/in.php`, {
          method: 'POST',
          body: new URLSearchParams({ key, method: 'base64', body: Buffer.from(samples[i].image).toString('base64'), json: '1' }),
        }).then((r) => r.json());
        if (submit.status !== 1) throw new Error(`submit refused: ${submit.request}`);
        // Solvebox long-polls: one request that answers when the task ends.
        const poll = await fetch(`${server.url}/res.php?key=${key}&action=get&id=${submit.request}&json=1&wait=30`).then((r) => r.json());
        answers[i] = poll.status === 1 ? String(poll.request) : undefined;
      }
    }),
  );
  return answers;
}

/** Each image submitted and answered before the next: in.php, then one long-poll of res.php. */
async function latencies(server, key, images) {
  const times = [];
  for (const image of images) {
    const started = performance.now();
    const submit = await fetch(`${server.url}/in.php`, {
      method: 'POST',
      body: new URLSearchParams({ key, method: 'base64', body: Buffer.from(image).toString('base64'), json: '1' }),
    }).then((r) => r.json());
    await fetch(`${server.url}/res.php?key=${key}&action=get&id=${submit.request}&json=1&wait=30`).then((r) => r.json());
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)], p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] };
}

const work = mkdtempSync(join(tmpdir(), 'solvebox-generalization-'));
const dir = mkdtempSync(join(tmpdir(), 'solvebox-generalization-db-'));
const rows = [];
let latency;
try {
  const families = await drawFamilies(work);
  const server = await startServer(configWith({ host: '127.0.0.1', port: 0, db: join(dir, 'db.sqlite'), logLevel: 'silent', ocrWorkers: WORKERS }));
  const pool = await RecognizerPool.start({ size: WORKERS });
  const ddddocr = await Ddddocr.load(cache);
  const ddddocrBeta = await Ddddocr.load(cache, { beta: true });
  try {
    const { key } = await createAccount(server.services.storage, { threads: 1000, balanceMicros: 0, proxiesAllowed: false });
    for (const [name, samples] of Object.entries(families)) {
      const served = await throughServer(server, key, samples);
      const readings = [];
      for (const { image } of samples) readings.push(await pool.recognize(image, NO_IMAGE_HINTS));
      const dddd = [];
      const ddddBeta = [];
      for (const { image } of samples) {
        dddd.push(await ddddocr.read(image));
        ddddBeta.push(await ddddocrBeta.read(image));
      }
      const n = samples.length;
      const declined = readings.flatMap((r, i) => (r.confidence < DEFAULT_MIN_CONFIDENCE ? [i] : []));
      const accepted = readings.flatMap((r, i) => (r.confidence >= DEFAULT_MIN_CONFIDENCE ? [i] : []));
      const readingRight = (i) => 'text' in readings[i] && same(readings[i].text, samples[i].text);
      rows.push({
        name,
        n,
        folded: served.filter((a, i) => a !== undefined && same(a, samples[i].text)).length / n,
        exact: served.filter((a, i) => a === samples[i].text).length / n,
        declinedShare: served.filter((a) => a === undefined).length / n,
        acceptedRight: accepted.filter(readingRight).length / Math.max(1, accepted.length),
        declinedRight: declined.filter(readingRight).length / Math.max(1, declined.length),
        declinedCount: declined.length,
        withoutDeclining: readings.filter((_, i) => readingRight(i)).length / n,
        dddd: dddd.filter((a, i) => same(a, samples[i].text)).length / n,
        ddddBeta: ddddBeta.filter((a, i) => same(a, samples[i].text)).length / n,
      });
      process.stderr.write(`${name} done\n`);
    }
    const rng = seededRng(SEED + 100);
    const synthetic = [];
    for (let i = 0; i < Number(values['latency-images']); i++) synthetic.push((await renderSynthetic(rng)).image);
    latency = await latencies(server, key, synthetic);
  } finally {
    await pool.close();
    await server.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;
console.log(`\nCaptcha families the model never trained on: ${PER_FAMILY} fresh images each (seed ${SEED}), Solvebox through a default server\n`);
console.log(
  '| family | Solvebox, ignoring case | exact | declined | right when answered | right when declined | without declining | ddddocr | ddddocr beta | ahead of ddddocr |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const best = Math.max(r.dddd, r.ddddBeta);
  console.log(
    `| ${r.name} | ${pct(r.folded)} | ${pct(r.exact)} | ${pct(r.declinedShare)} | ${pct(r.acceptedRight)} | ${r.declinedCount ? pct(r.declinedRight) : '–'} | ${pct(r.withoutDeclining)} | ${pct(r.dddd)} | ${pct(r.ddddBeta)} | ${r.folded > best ? 'yes' : `no (${pct(r.folded - best)})`} |`,
  );
}
const visible = rows.filter((r) => r.name in DEBIAN_FAMILIES);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `\nMean over the Debian families (the goal: ahead of ddddocr on each, and at least 75 %): Solvebox ${pct(mean(visible.map((r) => r.folded)))}, ddddocr ${pct(mean(visible.map((r) => r.dddd)))}, ddddocr beta ${pct(mean(visible.map((r) => r.ddddBeta)))}`,
);
const allDeclined = rows.reduce((a, r) => a + r.declinedCount, 0);
const allDeclinedRight = rows.reduce((a, r) => a + r.declinedRight * r.declinedCount, 0);
console.log(
  `Declined readings that would have been right, over every family: ${allDeclined ? pct(allDeclinedRight / allDeclined) : '–'} of ${allDeclined} (the goal: under 20 %)`,
);
console.log(
  `\nSolve latency through the server (in.php base64 submit → res.php answer, one at a time, ${values['latency-images']} fresh synthetic images): median ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms`,
);
