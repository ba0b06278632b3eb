#!/usr/bin/env node
/**
 * Throughput of the hot paths against the machine's own ceiling (a bare node:http server), in
 * paired windows (lib.mjs): res.php polls of a pending and of a solved task, durable in.php
 * submits of a token task and of a 10 kB multipart image, on the embedded SQLite default, and the
 * same poll and submit on Redis for comparison.
 *
 *   node scripts/bench/hot-paths.mjs [--seconds 5] [--pairs 5] [--connections 100]
 *        [--tool wrk|autocannon] [--only poll,submit,image,normal,redis] [--write-docs]
 *        [--profile DIR] [--bin CHECKOUT]
 *
 * `--profile DIR` runs each server under `--cpu-prof`, writes its profile to DIR when the case ends
 * and prints where its CPU went per request (profile-summary.mjs). `--bin CHECKOUT` measures the
 * servers of another built checkout (a `git worktree` of an earlier release, say), whose own CLI
 * then creates the accounts, for a before and after on one machine in one hour.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { createAccount } from '@solvebox/server';
import { RedisStorage } from '@solvebox/server/storage/redis';
import { SqliteStorage } from '@solvebox/server/storage/sqlite';
import { startRedisServer } from '@solvebox/server/testing';
import { summarizeProfile } from './profile-summary.mjs';
import { BIN, compare, launch, pinRedis, machineLine, pickTool, startBare, workDir, writeDocsBlock } from './lib.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    pairs: { type: 'string', default: '5' },
    connections: { type: 'string', default: '100' },
    tool: { type: 'string', default: '' },
    only: { type: 'string', default: 'poll,submit,image,normal,redis' },
    'write-docs': { type: 'boolean', default: false },
    profile: { type: 'string', default: '' },
    bin: { type: 'string', default: '' },
  },
});
const options = { seconds: Number(values.seconds), pairs: Number(values.pairs), connections: Number(values.connections) };
const tool = pickTool(values.tool);
const only = new Set(values.only.split(','));
console.error(machineLine(tool, options));

/** Long deadlines and result lifetimes: the tasks polled must not change state during the run. */
const NODE = [
  '--port',
  '0',
  '--sweep-interval',
  '1000',
  '--ban-failures',
  '1000000',
  '--token-deadline',
  '3600',
  '--image-deadline',
  '3600',
  '--result-ttl',
  '3600',
];
const SITEKEY = '6Le-wvkSAAAAAPBMRTvw0Q4Muexq9bi0DJwx_mJ-';

async function submitJson(url, params) {
  const r = await fetch(`${url}/in.php?${new URLSearchParams({ ...params, json: '1' })}`).then((res) => res.json());
  if (r.status !== 1) throw new Error(`submit refused: ${r.request}`);
  return String(r.request);
}

async function waitSolved(url, key, id) {
  for (let i = 0; i < 200; i++) {
    const text = await fetch(`${url}/res.php?key=${key}&action=get&id=${id}`).then((res) => res.text());
    if (text.startsWith('OK|')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${id} was not solved`);
}

const poll = (key, id) => ({ method: 'GET', path: `/res.php?key=${key}&action=get&id=${id}&json=1` });
const tokenSubmit = (keys) => ({
  method: 'POST',
  path: '/in.php',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  bodies: keys.map((key) =>
    new URLSearchParams({ key, method: 'userrecaptcha', googlekey: SITEKEY, pageurl: 'https://example.com/page', json: '1' }).toString(),
  ),
});

/** A real PNG header padded to 10 kB: in.php reads the header, the sandbox never decodes it. */
function imageSubmit(keys) {
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVR4nGP4jwMwDC0JALoev0Ewkwr8AAAAAElFTkSuQmCC',
    'base64',
  );
  const image = Buffer.alloc(10 * 1024);
  png.copy(image);
  for (let i = png.length; i < image.length; i++) image[i] = (i * 31 + 7) & 0xff;
  const boundary = '----solveboxbench';
  const field = (name, value) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = (key) =>
    Buffer.concat([
      Buffer.from(field('key', key) + field('method', 'post') + field('json', '1')),
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="captcha.png"\r\ncontent-type: image/png\r\n\r\n`),
      image,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
  return { method: 'POST', path: '/in.php', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, bodies: keys.map(body) };
}

const profiles = values.profile ? resolve(values.profile) : '';
const slug = (name) => name.replace(/\W+/g, '-').replace(/^-|-$/g, '');

const SERVER_BIN = values.bin ? join(resolve(values.bin), 'packages/cli/bin/solvebox.js') : BIN;

/** Starts a server for the case `name` (under `--cpu-prof` when profiling). */
function serve(name, args) {
  const profiling = profiles ? ['--cpu-prof', '--cpu-prof-dir', join(profiles, slug(name))] : [];
  return launch(process.execPath, [...profiling, SERVER_BIN, ...args]);
}

/** When profiling: stops the server (its profile is written on exit) and prints the summary. */
async function finish(node, name, served) {
  if (!profiles) return;
  node.child.kill('SIGTERM');
  await once(node.child, 'exit');
  console.error(summarizeProfile(join(profiles, slug(name)), served));
}

/** Stops a server unless it has stopped (a profiled one has). */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill();
  await once(child, 'exit');
}

const bareServer = await startBare();
const bare = { url: bareServer.url, processes: { bare: bareServer.pid } };
/** A case's processes whose CPU is counted: the server, and Redis where there is one. */
const measuredAt = (node, redisPid) => ({ url: node.url, processes: { server: node.pid, ...(redisPid ? { redis: redisPid } : {}) } });
const rows = [];

if (only.has('poll')) {
  const db = join(workDir, 'poll.db');
  const [key] = await accounts({ db }, 1);
  const node = await serve('poll (SQLite)', ['serve', '--db', db, '--solvers', '*=sandbox', ...NODE]);
  const { url } = node;
  const pending = await submitJson(url, { key, method: 'turnstile', sitekey: '0x4AAAAAAAbench', pageurl: 'https://example.com/?sandbox=delay:3000' });
  const solved = await submitJson(url, { key, method: 'turnstile', sitekey: '0x4AAAAAAAbench', pageurl: 'https://example.com/' });
  await waitSolved(url, key, solved);
  rows.push({ ...(await compare(tool, 'poll, pending task (SQLite)', bare, measuredAt(node), poll(key, pending), options)), target: 0.85 });
  rows.push({ ...(await compare(tool, 'poll, solved task (SQLite)', bare, measuredAt(node), poll(key, solved), options)), target: 0.85 });
  await finish(node, 'poll (SQLite)', rows.at(-1).served + rows.at(-2).served);
}

/** `count` accounts of 100 000 threads in the SQLite file `db` or under `prefix` on `redis`; their keys. */
async function accounts(where, count) {
  const keys = [];
  if (values.bin) {
    // Its own CLI: its schema may be older than this checkout's.
    const target = where.db ? ['--db', where.db] : ['--redis', where.redis, '--redis-prefix', where.prefix];
    for (let i = 0; i < count; i++) {
      const made = spawnSync(process.execPath, [SERVER_BIN, 'keys', 'create', '--threads', '100000', '--no-proxy', ...target], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`keys create: ${made.stderr}`);
      keys.push(made.stdout.trim());
    }
    return keys;
  }
  const storage = where.db ? new SqliteStorage({ file: where.db }) : await RedisStorage.connect({ url: where.redis, prefix: where.prefix });
  for (let i = 0; i < count; i++) keys.push((await createAccount(storage, { threads: 100_000, balanceMicros: 0, proxiesAllowed: false })).key);
  await storage.close();
  return keys;
}
/**
 * Submits go to an API-only node (solvers elsewhere), from 100 accounts in turn, as 100 clients
 * would send them. Tasks end at their 2 s deadline, so that threads free up as they would when
 * solved; the sweep that ends them is part of the measured work.
 */
const SUBMIT_NODE = ['--run-solvers', '0', '--token-deadline', '2', '--image-deadline', '2'];

async function submitCase(name, flags, request, target) {
  const db = join(workDir, `${name.replace(/\W+/g, '-')}.db`);
  const keys = await accounts({ db }, 100);
  const node = await serve(name, ['serve', '--db', db, ...NODE, ...SUBMIT_NODE, ...flags]);
  const { url } = node;
  const row = await compare(tool, name, bare, measuredAt(node), request(keys), options);
  const health = await fetch(`${url}/health`).then((res) => res.json());
  await finish(node, name, row.served);
  const group = health.storage.groupCommit;
  if (group) console.error(`  group commit: ${group.writes} writes in ${group.syncs} fsyncs (${(group.writes / group.syncs).toFixed(1)} per fsync)`);
  const checkpoints = health.storage.checkpoints;
  if (checkpoints)
    console.error(
      `  checkpoints: ${checkpoints.checkpoints} on the worker, ${checkpoints.catchUps} caught up by the server, log at ${checkpoints.lastLogPages} pages last`,
    );
  const admitted = health.storage.admissions;
  if (admitted)
    console.error(
      `  admissions: ${admitted.tasks} in ${admitted.transactions} transactions (${(admitted.tasks / admitted.transactions).toFixed(1)} per transaction)`,
    );
  rows.push({ ...row, target, ...(group ? { perFsync: group.writes / group.syncs } : {}) });
}

if (only.has('submit')) await submitCase('submit, token task, durable (SQLite)', [], tokenSubmit, 0.35);
if (only.has('image')) await submitCase('submit, 10 kB multipart image, durable (SQLite)', [], imageSubmit, 0.25);
if (only.has('normal')) await submitCase('submit, token task, synchronous=normal (SQLite)', ['--sqlite-synchronous', 'normal'], tokenSubmit, undefined);

if (only.has('redis')) {
  const redis = await startRedisServer();
  const redisPid = pinRedis(redis.port);
  const prefix = `bench-${Date.now()}:`;
  const keys = await accounts({ redis: redis.url, prefix }, 100);
  const pollName = 'poll, pending task (Redis, 1 node)';
  const pollNode = await serve(pollName, ['serve', '--redis', redis.url, '--redis-prefix', prefix, ...NODE]);
  const { url } = pollNode;
  const pending = await submitJson(url, { key: keys[0], method: 'userrecaptcha', googlekey: SITEKEY, pageurl: 'https://example.com/' });
  rows.push({ ...(await compare(tool, pollName, bare, measuredAt(pollNode, redisPid), poll(keys[0], pending), options)), target: 0.6 });
  await finish(pollNode, pollName, rows.at(-1).served);
  // An API-only node alone, as on SQLite: the poll node's solvers would take the tasks submitted.
  await stop(pollNode.child);
  const submitName = 'submit, token task (Redis, 1 node, no persistence)';
  const submits = await serve(submitName, ['serve', '--redis', redis.url, '--redis-prefix', prefix, ...NODE, ...SUBMIT_NODE]);
  rows.push({ ...(await compare(tool, submitName, bare, measuredAt(submits, redisPid), tokenSubmit(keys), options)), target: 0.4 });
  await finish(submits, submitName, rows.at(-1).served);
  // The node first: Redis gone under it, requests still queued would log storage faults.
  await stop(submits.child);
  await redis.dispose();
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const table = [
  '| case | ratio to bare node:http | pairs, lowest–highest | target | req/s | p50 ms | p99 ms | bare req/s | CPU µs per request: case (of it Redis) / bare | failed requests |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.case}${r.perFsync ? ` (${fmt(r.perFsync, 1)} writes per fsync)` : ''} | **${fmt(r.ratio, 2)}** | ${fmt(Math.min(...r.ratios), 2)}–${fmt(Math.max(...r.ratios), 2)} | ${r.target === undefined ? '–' : `≥ ${r.target}`} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.bareRps)} | ${fmt(r.cpuTotal, 1)}${r.cpu.redis === undefined ? '' : ` (${fmt(r.cpu.redis, 1)})`} / ${fmt(r.bareCpu, 1)} | ${r.failed} |`,
  ),
].join('\n');
const markdown = `${table}\n\nMeasured ${machineLine(tool, options)}.`;
console.log(markdown);
if (values['write-docs']) writeDocsBlock('hot-paths', markdown);
process.exit(0);
