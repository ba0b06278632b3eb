#!/usr/bin/env node
/**
 * The latency the relay adds over calling the upstream directly. Two Solvebox servers in this
 * process, both on durable SQLite: the upstream answers from its sandbox, the relay routes
 * Turnstile to it (`--solvers turnstile=relay`). A client submits a task and long-polls its answer
 * (`wait=20`), one task at a time, alternating direct and relayed so that both meet the same
 * machine; the figure is submit-to-answer time, median and p99.
 *
 *   node scripts/bench/relay-latency.mjs [--tasks 300]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configWith, createAccount, loadConfig, startServer } from '@solvebox/server';
import { median, workDir } from './lib.mjs';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '300' } } });
const TASKS = Number(values.tasks);

const solvers = loadConfig({ solvers: '*=sandbox' }).solvers;
const upstream = await startServer(configWith({ port: 0, db: join(workDir, 'upstream.db'), logLevel: 'error', solvers }));
const upstreamKey = (await createAccount(upstream.services.storage, { threads: 100, balanceMicros: 0, proxiesAllowed: false })).key;
const file = join(workDir, 'upstreams.json');
writeFileSync(file, JSON.stringify({ upstreams: [{ name: 'up', url: upstream.url, keyEnv: 'BENCH_UPSTREAM_KEY', types: ['turnstile'], firstPoll: 0 }] }));
process.env.BENCH_UPSTREAM_KEY = upstreamKey;
const relay = await startServer(
  configWith({ port: 0, db: join(workDir, 'relay.db'), logLevel: 'error', upstreams: file, solvers: { ...solvers, turnstile: 'relay' } }),
);
const relayKey = (await createAccount(relay.services.storage, { threads: 100, balanceMicros: 0, proxiesAllowed: false })).key;

/** Submit, then long-poll until the answer: milliseconds. */
async function solveOnce(url, key) {
  const started = performance.now();
  const submitted = await (
    await fetch(`${url}/in.php`, {
      method: 'POST',
      body: new URLSearchParams({ key, method: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: 'https://example.com/' }),
    })
  ).text();
  if (!submitted.startsWith('OK|')) throw new Error(`submit: ${submitted}`);
  for (;;) {
    const answer = await (await fetch(`${url}/res.php?${new URLSearchParams({ key, action: 'get', id: submitted.slice(3), wait: '20' })}`)).text();
    if (answer.startsWith('OK|')) return performance.now() - started;
    if (answer !== 'CAPCHA_NOT_READY') throw new Error(`poll: ${answer}`);
  }
}

const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];
try {
  // Warm both paths (connections, statements, the relay's knowledge that the upstream long-polls).
  for (let i = 0; i < 20; i++) {
    await solveOnce(upstream.url, upstreamKey);
    await solveOnce(relay.url, relayKey);
  }
  const direct = [];
  const relayed = [];
  for (let i = 0; i < TASKS; i++) {
    direct.push(await solveOnce(upstream.url, upstreamKey));
    relayed.push(await solveOnce(relay.url, relayKey));
  }
  const ms = (x) => `${x.toFixed(1)} ms`;
  console.log(`| path | median | p99 |`);
  console.log(`| --- | ---: | ---: |`);
  console.log(`| client → upstream | ${ms(median(direct))} | ${ms(p99(direct))} |`);
  console.log(`| client → relay → upstream | ${ms(median(relayed))} | ${ms(p99(relayed))} |`);
  console.log(`| added by the relay | ${ms(median(relayed) - median(direct))} | ${ms(p99(relayed) - p99(direct))} |`);
  console.log(`\n${TASKS} tasks each, one at a time, submit to answer; both servers on durable SQLite.`);
} finally {
  await relay.close();
  await upstream.close();
}
