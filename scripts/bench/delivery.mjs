#!/usr/bin/env node
/**
 * Latency from solve to client receipt, three ways: plain polling every 5 s (the vendors' rule),
 * long-poll (`wait=25`), and pingback. The server runs in this process on SQLite with the sandbox
 * solver, wrapped to note the moment each answer exists; clients note the moment they have it.
 * Tasks are solved after random delays of 0.2 to 10 s, so that solves fall anywhere in a poll interval.
 *
 *   node scripts/bench/delivery.mjs [--tasks 100] [--write-docs]
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configWith, createAccount, loadConfig, SandboxSolver, startServer } from '@solvebox/server';
import { median, PINNED, workDir, writeDocsBlock } from './lib.mjs';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '100' }, 'write-docs': { type: 'boolean', default: false } } });
const TASKS = Number(values.tasks);
const POLL_INTERVAL_MS = 5000;

const solvedAt = new Map();
const sandbox = new SandboxSolver();
const timedSandbox = {
  name: 'sandbox',
  types: sandbox.types,
  concurrency: 10_000,
  async solve(task, ctx) {
    const solution = await sandbox.solve(task, ctx);
    solvedAt.set(task.id, performance.now());
    return solution;
  },
};

const config = configWith({
  port: 0,
  db: join(workDir, 'delivery.db'),
  logLevel: 'error',
  solvers: loadConfig({ solvers: '*=sandbox' }).solvers,
  pingbackPrivate: true,
});
const server = await startServer(config, { backends: { sandbox: timedSandbox } });
const { key } = await createAccount(server.services.storage, { threads: 100_000, balanceMicros: 0, proxiesAllowed: false });
const base = server.url;

const receivedAt = new Map();
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    receivedAt.set(new URLSearchParams(body).get('id'), performance.now());
    res.writeHead(200).end();
  });
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');
const hook = `http://127.0.0.1:${receiver.address().port}/hook`;

async function submit(extra = {}) {
  const delay = (0.2 + Math.random() * 9.8).toFixed(3);
  const params = new URLSearchParams({
    key,
    method: 'turnstile',
    sitekey: '0x4AAAAAAAdelivery',
    pageurl: `https://example.com/?sandbox=delay:${delay}`,
    json: '1',
    ...extra,
  });
  const r = await fetch(`${base}/in.php`, { method: 'POST', body: params }).then((res) => res.json());
  if (r.status !== 1) throw new Error(`submit refused: ${r.request}`);
  return String(r.request);
}

const get = (id, extra = '') => fetch(`${base}/res.php?key=${key}&action=get&id=${id}&json=1${extra}`).then((res) => res.json());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The vendors' loop: first poll after the interval, then every interval. */
async function polling(id) {
  for (;;) {
    await sleep(POLL_INTERVAL_MS);
    if ((await get(id)).status === 1) return performance.now();
  }
}

async function longPoll(id) {
  for (;;) if ((await get(id, '&wait=25')).status === 1) return performance.now();
}

async function measure(name, run) {
  const latencies = await Promise.all(
    Array.from({ length: TASKS }, async () => {
      const id = await run.submit();
      const at = await run.receipt(id);
      return at - solvedAt.get(id);
    }),
  );
  const sorted = [...latencies].sort((a, b) => a - b);
  const row = { name, median: median(latencies), p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] };
  console.error(`${name}: median ${row.median.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms over ${TASKS} tasks`);
  return row;
}

async function pingbackReceipt(id) {
  while (!receivedAt.has(id)) await sleep(1);
  return receivedAt.get(id);
}

const rows = [
  await measure('plain polling, every 5 s', { submit: () => submit(), receipt: polling }),
  await measure('long-poll (wait=25)', { submit: () => submit(), receipt: longPoll }),
  // The receiver notes the POST when it arrives; polling it here every 1 ms only reads that note.
  await measure('pingback', { submit: () => submit({ pingback: hook }), receipt: pingbackReceipt }),
];

await server.close();
receiver.close();
const table = [
  '| delivery | median ms | p99 ms | target |',
  '|---|---:|---:|---|',
  ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.name.startsWith('plain') ? '–' : 'median < 10 ms'} |`),
].join('\n');
const markdown = `${table}\n\nMeasured ${new Date().toISOString().slice(0, 10)}, ${TASKS} tasks each, server and clients in one Node ${process.version} process on SQLite (durable writes), ${PINNED ? 'pinned to core 1' : 'unpinned'}; from the solver returning the answer (before it is stored) to the client having it.`;
console.log(markdown);
if (values['write-docs']) writeDocsBlock('delivery', markdown);
process.exit(0);
