#!/usr/bin/env node
/**
 * Memory under sustained load: the resident set of a `solvebox serve` process (SQLite, sandbox
 * solver) after a warm-up, after 1 000 000 polls and 100 000 submits, and once the results of
 * those tasks have expired and been swept. Flat means the last two stay within 50 MB of the first,
 * and the expired tasks are gone from the database.
 *
 *   node scripts/bench/memory.mjs [--polls 1000000] [--submits 100000] [--write-docs]
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createAccount } from '@solvebox/server';
import { SqliteStorage } from '@solvebox/server/storage/sqlite';
import { loadCount, rssMb, solvebox, workDir, writeDocsBlock } from './lib.mjs';

const { values } = parseArgs({
  options: { polls: { type: 'string', default: '1000000' }, submits: { type: 'string', default: '100000' }, 'write-docs': { type: 'boolean', default: false } },
});
const POLLS = Number(values.polls);
const SUBMITS = Number(values.submits);
const RESULT_TTL_S = 10;

const db = join(workDir, 'memory.db');
const storage = new SqliteStorage({ file: db });
const keys = [];
for (let i = 0; i < 100; i++) keys.push((await createAccount(storage, { threads: 100_000, balanceMicros: 0, proxiesAllowed: false })).key);
await storage.close();
const { url, pid } = await solvebox([
  'serve',
  '--db',
  db,
  '--port',
  '0',
  '--solvers',
  '*=sandbox',
  '--result-ttl',
  String(RESULT_TTL_S),
  '--ban-failures',
  '1000000',
]);

const submitRequests = keys.map((key) => ({
  method: 'POST',
  path: '/in.php',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ key, method: 'turnstile', sitekey: '0x4AAAAAAAmemory', pageurl: 'https://example.com/login', json: '1' }).toString(),
}));

/** Polls spread over tasks of every age: solved, still running, and (later) expired. */
async function pollRequests() {
  const requests = [];
  for (const key of keys.slice(0, 20)) {
    const params = new URLSearchParams({
      key,
      method: 'turnstile',
      sitekey: '0x4AAAAAAAmemory',
      pageurl: 'https://example.com/login?sandbox=delay:2',
      json: '1',
    });
    const r = await fetch(`${url}/in.php`, { method: 'POST', body: params }).then((res) => res.json());
    requests.push({ method: 'GET', path: `/res.php?key=${key}&action=get&id=${r.request}&json=1` });
  }
  return requests;
}

const taskRows = () => {
  const handle = new Database(db, { readonly: true });
  try {
    return handle.prepare('SELECT count(*) AS n FROM tasks').get().n;
  } finally {
    handle.close();
  }
};

const step = (what, result) =>
  console.error(`${what}: ${result.sent} requests, ${Math.round(result.rps)} req/s, ${result.failed} failed; RSS ${rssMb(pid).toFixed(1)} MB`);

step('warm-up submits', await loadCount(url, submitRequests, { amount: 5000, connections: 50, maxSeconds: 60 }));
step('warm-up polls', await loadCount(url, await pollRequests(), { amount: 50_000, connections: 50, maxSeconds: 60 }));
await new Promise((r) => setTimeout(r, 2000));
const warm = rssMb(pid);

const submitted = await loadCount(url, submitRequests, { amount: SUBMITS, connections: 50, maxSeconds: 300 });
step('submits', submitted);
const afterSubmits = rssMb(pid);
const rowsAfterSubmits = taskRows();
const polled = await loadCount(url, await pollRequests(), { amount: POLLS, connections: 100, maxSeconds: 300 });
step('polls', polled);
const loaded = rssMb(pid);
const rowsLoaded = taskRows();

// Every result expires RESULT_TTL_S after its task ended; the sweep runs every second.
await new Promise((r) => setTimeout(r, (RESULT_TTL_S + 3) * 1000));
const expired = rssMb(pid);
const rowsExpired = taskRows();

const markdown = [
  '| moment | RSS MB | change from warm-up | tasks in the database |',
  '|---|---:|---:|---:|',
  `| after warm-up (5 000 submits, 50 000 polls) | ${warm.toFixed(1)} | – | – |`,
  `| after ${submitted.sent.toLocaleString('en')} submits | ${afterSubmits.toFixed(1)} | ${(afterSubmits - warm).toFixed(1)} | ${rowsAfterSubmits.toLocaleString('en')} |`,
  `| after ${polled.sent.toLocaleString('en')} polls more | ${loaded.toFixed(1)} | ${(loaded - warm).toFixed(1)} | ${rowsLoaded.toLocaleString('en')} |`,
  `| ${RESULT_TTL_S + 3} s later (results expired and swept) | ${expired.toFixed(1)} | ${(expired - warm).toFixed(1)} | ${rowsExpired.toLocaleString('en')} |`,
  '',
  `Target: within 50 MB of the warm-up. Measured ${new Date().toISOString().slice(0, 10)}, \`solvebox serve\` on SQLite (durable writes) with the sandbox solver and \`--result-ttl ${RESULT_TTL_S}\`, autocannon, ${submitted.failed + polled.failed} failed requests.`,
].join('\n');
console.log(markdown);
if (values['write-docs']) writeDocsBlock('memory', markdown);
process.exit(0);
