/**
 * API nodes sharing one real redis-server (started for this file on a free port; each test under
 * its own key prefix): what one node stores, every node sees, and a node that loses Redis answers
 * ERROR_SERVER_ERROR, then recovers by itself. Skips, saying why, without redis-server (fails under CI=true).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAccount, type ServerConfig } from '../src/index.js';
import { RedisStorage } from '../src/storage/redis/index.js';
import { redisServerMissing, startRedisServer, type RedisServerProcess } from '../src/testing/redis-server.js';
import { eventually, getQuery, startTestServer, submit, submitOk, turnstile, waitForResult, type TestServer } from './helpers.js';

const missing = redisServerMissing();

/** Resolves once `node` caches what Redis reports changes to (its tracking connections are all up). */
async function caching(node: TestServer): Promise<void> {
  const health = async (): Promise<{ storage: { caching?: boolean } }> =>
    (await fetch(`${node.url}/health`)).json() as Promise<{ storage: { caching?: boolean } }>;
  await eventually(async () => (await health()).storage.caching === true, 5000, 'the node to cache');
}

/** Two nodes on one Redis deployment: `a` solves, `b` only answers the API (its tasks go to `a`'s runner). */
async function twoNodes(redis: RedisServerProcess, overrides: Partial<ServerConfig> = {}): Promise<{ a: TestServer; b: TestServer; close(): Promise<void> }> {
  const shared = { storage: 'redis', redisUrl: redis.url, redisPrefix: `test-${randomUUID()}:`, leaseMs: 500, ...overrides } as const;
  const a = await startTestServer(shared);
  const b = await startTestServer({ ...shared, runSolvers: false });
  return {
    a,
    // b's own first key is not needed: use the account a created, which b must know too.
    b: { ...b, key: a.key },
    close: async () => {
      await b.close();
      await a.close();
    },
  };
}

describe('API nodes on one Redis', { skip: missing }, () => {
  test('a task submitted on one node is answered on the other, solved by the node that runs solvers', async () => {
    const redis = await startRedisServer();
    const { a, b, close } = await twoNodes(redis);
    try {
      const onB = await submitOk(b, turnstile());
      assert.match(await waitForResult(a, onB), /^OK\|0\.SANDBOX_/);
      assert.equal(await waitForResult(b, onB), await waitForResult(a, onB));
      const health = (await (await fetch(`${b.url}/health`)).json()) as { status: string; storage: { kind: string }; solvers: { types: string[] } };
      assert.equal(health.status, 'ok');
      assert.equal(health.storage.kind, 'redis');
      assert.deepEqual(health.solvers.types, [], 'the API-only node solves nothing itself');
    } finally {
      await close();
      await redis.dispose();
    }
  });

  test('a long-poll on one node is woken when another node solves the task (pub/sub, no polling)', async () => {
    const redis = await startRedisServer();
    const { a, b, close } = await twoNodes(redis);
    try {
      const id = await submitOk(b, turnstile('delay:0.4'));
      const started = performance.now();
      const answer = await getQuery(b.url, '/res.php', { key: b.key, action: 'get', id, wait: 10 });
      const ms = performance.now() - started;
      assert.match(answer.body, /^OK\|0\.SANDBOX_/);
      assert.ok(ms < 3000, `answered when a solved it (${Math.round(ms)} ms), not after the 10 s wait`);
      assert.equal(await waitForResult(a, id), answer.body);
    } finally {
      await close();
      await redis.dispose();
    }
  });

  test('the thread limit holds across nodes: ERROR_ZERO_BALANCE on the second node once the first filled the threads', async () => {
    const redis = await startRedisServer();
    const { a, b, close } = await twoNodes(redis);
    try {
      const key = (await createAccount(a.server.services.storage, { threads: 2, balanceMicros: 0, proxiesAllowed: false })).key;
      const slow = turnstile('delay:2');
      await submitOk({ url: a.url, key }, slow);
      await submitOk({ url: b.url, key }, slow);
      assert.equal(await submit({ url: a.url, key }, slow), 'ERROR_ZERO_BALANCE');
      assert.equal(await submit({ url: b.url, key }, slow), 'ERROR_ZERO_BALANCE');
    } finally {
      await close();
      await redis.dispose();
    }
  });

  test('bans and marks are cached on every node, and one made on one node applies on the others at once', async () => {
    const redis = await startRedisServer();
    const { a, b, close } = await twoNodes(redis, { banFailures: 3 });
    const observer = new Redis(redis.url);
    const gets = async (): Promise<number> => Number(/cmdstat_get:calls=(\d+)/.exec(await observer.info('commandstats'))?.[1] ?? 0);
    try {
      // b learns that this IP is not banned, then answers from what it learnt: its polls read no ban.
      await caching(b);
      const id = await submitOk(b, turnstile());
      await waitForResult(b, id);
      const before = await gets();
      for (let i = 0; i < 20; i++) assert.match((await getQuery(b.url, '/res.php', { key: b.key, action: 'get', id })).body, /^OK\|/);
      assert.equal(await gets(), before, 'no ban read per poll');

      // Marks are cached the same way: b reads that the proxy is fine once, then reads no mark per submit.
      const proxy = { proxy: '192.0.2.10:8080', proxytype: 'HTTP' };
      await waitForResult(b, await submitOk(b, turnstile(undefined, proxy)));
      const beforeSubmits = await gets();
      for (let i = 0; i < 3; i++) await waitForResult(b, await submitOk(b, turnstile(undefined, proxy)));
      assert.equal(await gets(), beforeSubmits, 'no mark read per submit');
      const failed = await submitOk(a, turnstile('proxy-fail', proxy));
      assert.equal(await waitForResult(a, failed), 'ERROR_PROXY_CONNECTION_FAILED');
      await eventually(async () => (await submit(b, turnstile(undefined, proxy))) === 'ERROR_BAD_PROXY', 1000, 'b to see the mark');

      for (let i = 0; i < 3; i++)
        assert.equal((await getQuery(a.url, '/res.php', { key: 'x'.repeat(32), action: 'getbalance' })).body, 'ERROR_KEY_DOES_NOT_EXIST');
      // Redis reported the ban to b as a made it; the report travels on its own connection, so
      // it is waited for, briefly.
      await eventually(async () => (await getQuery(b.url, '/res.php', { key: b.key, action: 'getbalance' })).body === 'IP_BANNED', 1000, 'b to see the ban');
      assert.equal((await getQuery(b.url, '/res.php', { key: b.key, action: 'get', id })).body, 'IP_BANNED');
      // Lifted on a (an admin's action): b lets the IP in again.
      assert.equal(await a.server.services.storage.liftBan('127.0.0.1'), true);
      a.server.services.gate.forgetBan('127.0.0.1');
      await eventually(async () => /^OK\|/.test((await getQuery(b.url, '/res.php', { key: b.key, action: 'get', id })).body), 1000, 'b to see the lift');
    } finally {
      observer.disconnect();
      await close();
      await redis.dispose();
    }
  });

  test('a polled task is cached on the node that polls it, and a change made on another node reaches its polls at once', async () => {
    const redis = await startRedisServer();
    const { a, b, close } = await twoNodes(redis);
    const observer = new Redis(redis.url);
    const reads = async (): Promise<number> => Number(/cmdstat_hmget:calls=(\d+)/.exec(await observer.info('commandstats'))?.[1] ?? 0);
    try {
      // Submitted on b, solved by a after a second: b's polls read the pending task from Redis once.
      await caching(b);
      const id = await submitOk(b, turnstile('delay:1'));
      assert.equal((await getQuery(b.url, '/res.php', { key: b.key, action: 'get', id })).body, 'CAPCHA_NOT_READY');
      const before = await reads();
      for (let i = 0; i < 20; i++) assert.equal((await getQuery(b.url, '/res.php', { key: b.key, action: 'get', id })).body, 'CAPCHA_NOT_READY');
      // a renews its lease on the task every few hundred ms (leaseMs 500), a change that b reads again.
      assert.ok((await reads()) - before <= 3, `no task read per poll (${(await reads()) - before} reads for 20 polls)`);

      // a solves it: Redis reports the change to b, whose next polls read the answer.
      const answer = await waitForResult(a, id);
      assert.match(answer, /^OK\|0\.SANDBOX_/);
      await eventually(async () => (await getQuery(b.url, '/res.php', { key: b.key, action: 'get', id })).body === answer, 1000, 'b to see the answer');
      const solved = await reads();
      for (let i = 0; i < 5; i++) assert.equal((await getQuery(b.url, '/res.php', { key: b.key, action: 'get', id, json: 1 })).status, 200);
      assert.equal(await reads(), solved, 'the answer is cached in turn');

      // Another account's key learns nothing from b's cache.
      const other = (await createAccount(a.server.services.storage, { threads: 1, balanceMicros: 0, proxiesAllowed: false })).key;
      assert.equal((await getQuery(b.url, '/res.php', { key: other, action: 'get', id })).body, 'ERROR_WRONG_CAPTCHA_ID');
    } finally {
      observer.disconnect();
      await close();
      await redis.dispose();
    }
  });

  test('a node that loses Redis answers ERROR_SERVER_ERROR (text and JSON) and /health 503, and recovers by itself when Redis returns', async () => {
    const redis = await startRedisServer({ persistent: true });
    const { a, close } = await twoNodes(redis);
    try {
      await caching(a);
      const before = await submitOk(a, turnstile('delay:0.3'));
      // Polled once, so cached: once Redis is gone the cache no longer answers (others may change the task meanwhile).
      assert.equal((await getQuery(a.url, '/res.php', { key: a.key, action: 'get', id: before })).body, 'CAPCHA_NOT_READY');
      await redis.stop('SIGKILL');
      assert.equal(await submit(a, turnstile()), 'ERROR_SERVER_ERROR');
      const json = await getQuery(a.url, '/res.php', { key: a.key, action: 'get', id: before, json: 1 });
      assert.equal(json.status, 200);
      assert.equal((JSON.parse(json.body) as { request: string }).request, 'ERROR_SERVER_ERROR');
      const health = await fetch(`${a.url}/health`);
      assert.equal(health.status, 503);
      assert.doesNotMatch(await health.text(), /password|stack|at \w+ \(/i, 'no secrets or stack traces');

      await redis.restart();
      await eventually(async () => (await fetch(`${a.url}/health`)).status === 200, 10_000, 'the node to see Redis again');
      assert.match(await waitForResult(a, before, {}, 10_000), /^OK\|/, 'the task accepted before the outage is answered');
      assert.match(await waitForResult(a, await submitOk(a, turnstile())), /^OK\|/);
    } finally {
      await close();
      await redis.dispose();
    }
  });

  test('Redis unreachable at startup: the node refuses to start, naming Redis but not its password', async () => {
    const redis = await startRedisServer();
    const url = redis.url.replace('redis://', 'redis://:s3cret-pass@');
    await redis.dispose();
    await assert.rejects(RedisStorage.connect({ url, connectTimeoutMs: 500 }), (err: Error) => {
      assert.match(err.message, /cannot use Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });
});
