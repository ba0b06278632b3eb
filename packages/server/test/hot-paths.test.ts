/**
 * The hot paths as a client sees them: long-polls (`wait=N`) that answer when the task ends, the
 * cached poll path answering exactly what the storage path answers, and the caches' limits (a
 * disabled key, a ban) applied as documented.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LONG_POLL_HEADER } from '@solvebox/protocol';
import { getQuery, result, startTestServer, submitOk, turnstile, eventually, type TestServer } from './helpers.js';

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('long-poll (wait=N, a Solvebox extension)', () => {
  // Event-driven, not timed: the poll is seen waiting while the task is pending, and it must answer
  // well inside the test's own timeout, which is far shorter than the 60 s it asks to wait.
  test('holds the poll until the task is solved, then answers as a plain get; stock polls do not wait', { timeout: 20_000 }, async () => {
    const t = await startTestServer();
    try {
      const id = await submitOk(t, turnstile('delay:0.4'));
      assert.equal(await result(t, id), 'CAPCHA_NOT_READY', 'no wait parameter: answers at once');
      const polling = result(t, id, { wait: 60 });
      await eventually(() => t.server.services.waiters.size === 1, 2000, 'the poll to wait');
      assert.equal(await result(t, id), 'CAPCHA_NOT_READY', 'it waits because the task is pending');
      const value = await polling;
      assert.match(value, /^OK\|0\.SANDBOX_/);
      assert.equal(t.server.services.waiters.size, 0, 'the solve woke the wait');
      const json = await timed(() => getQuery(t.url, '/res.php', { key: t.key, action: 'get2', id, wait: 5, json: 1 }));
      assert.deepEqual(JSON.parse(json.value.body), { status: 1, request: value.slice(3), price: '0' });
      assert.ok(json.ms < 1000, 'a finished task answers at once');
    } finally {
      await t.close();
    }
  });

  test('answers CAPCHA_NOT_READY when the wait ends first; unknown ids and failures answer at once', async () => {
    const t = await startTestServer();
    try {
      const slow = await submitOk(t, turnstile('delay:5'));
      const { value, ms } = await timed(() => result(t, slow, { wait: 0.3 }));
      assert.equal(value, 'CAPCHA_NOT_READY');
      assert.ok(ms >= 280, `waited the 0.3 s asked (${Math.round(ms)} ms)`);
      const unknown = await timed(() => result(t, '1234567890123456', { wait: 5 }));
      assert.equal(unknown.value, 'ERROR_WRONG_CAPTCHA_ID');
      assert.ok(unknown.ms < 1000);
      const failing = await submitOk(t, turnstile('unsolvable'));
      assert.equal((await timed(() => result(t, failing, { wait: 10 }))).value, 'ERROR_CAPTCHA_UNSOLVABLE');
      for (const odd of ['abc', '-3', '0', '']) assert.equal(await result(t, slow, { wait: odd }), 'CAPCHA_NOT_READY', `wait=${odd} is no wait`);
    } finally {
      await t.close();
    }
  });

  test('a client that goes away stops its wait; the server advertises the longest wait on every answer', async () => {
    const t = await startTestServer();
    try {
      const id = await submitOk(t, turnstile('delay:5'));
      const gone = new AbortController();
      const pending = fetch(`${t.url}/res.php?key=${t.key}&action=get&id=${id}&wait=30`, { signal: gone.signal }).catch(() => undefined);
      await eventually(() => t.server.services.waiters.size === 1, 2000, 'the wait to start');
      gone.abort();
      await pending;
      await eventually(() => t.server.services.waiters.size === 0, 2000, 'the wait to end with its client');
      for (const [path, params] of [
        ['/in.php', { key: t.key, ...turnstile() }],
        ['/res.php', { key: t.key, action: 'get', id }],
        ['/res.php', { key: 'bad', action: 'get', id }],
      ] as const) {
        assert.equal((await getQuery(t.url, path, params)).headers.get(LONG_POLL_HEADER), '30', path);
      }
    } finally {
      await t.close();
    }
  });

  test('a shutdown answers waiting polls at once', async () => {
    const t = await startTestServer();
    const id = await submitOk(t, turnstile('delay:20'));
    const pending = timed(() => result(t, id, { wait: 30 }));
    await eventually(() => t.server.services.waiters.size === 1, 2000, 'the wait to start');
    const closing = t.close();
    const { value, ms } = await pending;
    await closing;
    assert.equal(value, 'CAPCHA_NOT_READY');
    assert.ok(ms < 5000, `answered within ${Math.round(ms)} ms of the shutdown`);
  });
});

describe('cached polls', () => {
  async function answers(t: TestServer, id: string): Promise<string[]> {
    const out: string[] = [];
    const variants: Record<string, number>[] = [{}, { json: 1 }, { header_acao: 1 }, { json: 1, header_acao: 1 }];
    for (const params of variants) {
      for (const action of ['get', 'get2']) {
        const a = await getQuery(t.url, '/res.php', { key: t.key, action, id, ...params });
        out.push(`${a.status} ${a.headers.get('content-type')} ${a.headers.get('access-control-allow-origin')} ${a.headers.get(LONG_POLL_HEADER)} ${a.body}`);
      }
    }
    return out;
  }

  test('a poll answered from memory is byte for byte what storage answers, pending, solved and failed', async () => {
    const t = await startTestServer();
    const cold = await startTestServer({ authCacheMs: 0 });
    try {
      for (const directive of ['delay:30', undefined, 'unsolvable']) {
        const id = await submitOk(t, turnstile(directive));
        const coldId = await submitOk(cold, turnstile(directive));
        if (directive !== 'delay:30') {
          await eventually(async () => (await result(t, id)) !== 'CAPCHA_NOT_READY');
          await eventually(async () => (await result(cold, coldId)) !== 'CAPCHA_NOT_READY');
        }
        // `cold` reads its account from storage on every request, so it never takes the memory path.
        assert.deepEqual(await answers(t, id), await answers(cold, coldId), `sandbox ${directive ?? 'token'}`);
      }
    } finally {
      await t.close();
      await cold.close();
    }
  });

  test('a disabled key stops at once for getbalance, and for polls when its cache entry ends', async () => {
    const t = await startTestServer({ authCacheMs: 300 });
    try {
      const key = await t.newKey();
      const id = await submitOk({ url: t.url, key }, turnstile('delay:30'));
      assert.equal(await result({ url: t.url, key }, id), 'CAPCHA_NOT_READY');
      const account = (await t.server.services.storage.listAccounts()).at(-1)!;
      await t.server.services.storage.setAccountDisabled(account.id, true);
      assert.equal((await getQuery(t.url, '/res.php', { key, action: 'getbalance' })).body, 'ERROR_KEY_DOES_NOT_EXIST');
      await eventually(async () => (await result({ url: t.url, key }, id)) === 'ERROR_KEY_DOES_NOT_EXIST', 2000, 'the cached key to expire');
    } finally {
      await t.close();
    }
  });

  test('a ban applies to cached polls at once', async () => {
    const t = await startTestServer({ banFailures: 2 });
    try {
      const id = await submitOk(t, turnstile('delay:30'));
      assert.equal(await result(t, id), 'CAPCHA_NOT_READY');
      assert.equal(await result(t, id), 'CAPCHA_NOT_READY');
      for (let i = 0; i < 2; i++) await result({ url: t.url, key: 'f'.repeat(32) }, id);
      assert.equal(await result(t, id), 'IP_BANNED');
    } finally {
      await t.close();
    }
  });
});
