#!/usr/bin/env node
/**
 * `npm run bench:scale` (Redis mode): res.php poll and in.php submit throughput and p99 latency for
 *   - one node on SQLite (the embedded default),
 *   - one node on Redis,
 *   - two nodes on one Redis (the load split evenly between them),
 * each as a ratio against a bare node:http server answering a fixed small JSON body, measured in
 * the same run. Paired design (see shared/reference/perf-ceiling.md §3): the baseline and the case
 * alternate in short windows, and the ratio is taken per pair, so a machine that changes speed
 * mid-run moves both sides of a ratio. Servers and Redis are pinned to core 0 and the load
 * generator to core 1 when `taskset` exists; unpinned numbers on 2 cores are erratic.
 *
 * The nodes run with --run-solvers 0: this measures the API and its storage, not solving.
 * Redis runs without persistence here; appendfsync always (what the failure test requires) costs
 * an fsync per write, see docs/deployment.md.
 *
 * Options: --seconds N per window (3), --pairs N (3), --connections N (50), --only sqlite,redis,redis2
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startRedisServer } from '@solvebox/server/testing';
import { cli, median, PINNED, pinRedis, solvebox as launchSolvebox, startBare as launchBare, workDir as work } from './lib.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    pairs: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string', default: 'sqlite,redis,redis2' },
  },
});
const SECONDS = Number(values.seconds);
const PAIRS = Number(values.pairs);
const CONNECTIONS = Number(values.connections);
const startBare = async () => (await launchBare()).url;
const solvebox = async (args) => (await launchSolvebox(args)).url;

/** One load window against one or more URLs at once (the connections split between them). */
async function load(urls, request) {
  const results = await Promise.all(
    urls.map(
      (url) =>
        new Promise((resolve, reject) => {
          autocannon(
            {
              url: url + request.path,
              method: request.method,
              body: request.body,
              headers: request.headers,
              connections: Math.max(1, Math.round(CONNECTIONS / urls.length)),
              duration: SECONDS,
            },
            (err, r) => (err ? reject(err) : resolve(r)),
          );
        }),
    ),
  );
  const rps = results.reduce((sum, r) => sum + r.requests.average, 0);
  const p99 = Math.max(...results.map((r) => r.latency.p99));
  const bad = results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0);
  return { rps, p99, bad };
}

async function compare(name, baseline, urls, request) {
  await load([baseline], request); // warm-up, both sides
  await load(urls, request);
  const pairs = [];
  for (let i = 0; i < PAIRS; i++) {
    // Alternate the order, so that neither side always runs second.
    let base;
    let x;
    if (i % 2 === 0) {
      base = await load([baseline], request);
      x = await load(urls, request);
    } else {
      x = await load(urls, request);
      base = await load([baseline], request);
    }
    pairs.push({ ratio: x.rps / base.rps, rps: x.rps, p99: x.p99, baseRps: base.rps, baseP99: base.p99, bad: x.bad });
  }
  return {
    case: name,
    workload: request.name,
    'req/s': Math.round(median(pairs.map((p) => p.rps))),
    'p99 ms': median(pairs.map((p) => p.p99)),
    'bare req/s': Math.round(median(pairs.map((p) => p.baseRps))),
    'bare p99 ms': median(pairs.map((p) => p.baseP99)),
    ratio: Number(median(pairs.map((p) => p.ratio)).toFixed(2)),
    'non-2xx/errors': pairs.reduce((s, p) => s + p.bad, 0),
  };
}

function workloads(key, taskId) {
  return [
    { name: 'poll (res.php get)', method: 'GET', path: `/res.php?key=${key}&action=get&id=${taskId}&json=1` },
    {
      name: 'submit (in.php)',
      method: 'POST',
      path: '/in.php',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        key,
        method: 'userrecaptcha',
        googlekey: '6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-',
        pageurl: 'https://example.com/page',
        json: '1',
      }).toString(),
    },
  ];
}

async function firstTask(url, key) {
  const r = await fetch(
    `${url}/in.php?key=${key}&method=userrecaptcha&googlekey=6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-&pageurl=https://example.com/&json=1`,
  ).then((res) => res.json());
  if (r.status !== 1) throw new Error(`could not submit the task to poll: ${r.request}`);
  return r.request;
}

const NODE_FLAGS = ['--port', '0', '--run-solvers', '0', '--sweep-interval', '1000', '--ban-failures', '1000000'];
const only = new Set(values.only.split(','));
console.log(
  `windows of ${SECONDS} s, ${PAIRS} pairs, ${CONNECTIONS} connections, ${PINNED ? 'servers and Redis pinned to core 0, load to core 1' : 'NOT pinned (no taskset): expect noise'}`,
);
const bare = await startBare();
const rows = [];

if (only.has('sqlite')) {
  const db = join(work, 'bench.db');
  const key = cli(['keys', 'create', '--threads', '100000', '--db', db]);
  const url = await solvebox(['serve', '--db', db, ...NODE_FLAGS]);
  const id = await firstTask(url, key);
  for (const w of workloads(key, id)) rows.push(await compare('1 node, SQLite', bare, [url], w));
}
if (only.has('redis') || only.has('redis2')) {
  const redis = await startRedisServer();
  pinRedis(redis.port);
  const prefix = `bench-${Date.now()}:`;
  const key = cli(['keys', 'create', '--threads', '100000', '--redis', redis.url, '--redis-prefix', prefix]);
  const first = await solvebox(['serve', '--redis', redis.url, '--redis-prefix', prefix, ...NODE_FLAGS]);
  const id = await firstTask(first, key);
  if (only.has('redis')) for (const w of workloads(key, id)) rows.push(await compare('1 node, Redis', bare, [first], w));
  if (only.has('redis2')) {
    const second = await solvebox(['serve', '--redis', redis.url, '--redis-prefix', prefix, ...NODE_FLAGS]);
    for (const w of workloads(key, id)) rows.push(await compare('2 nodes, Redis', bare, [first, second], w));
  }
  await redis.dispose();
}
console.table(rows);
process.exit(0);
