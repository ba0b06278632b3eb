/**
 * Requests written byte by byte to a socket, as an attacker or a broken client would send them:
 * every one gets HTTP 200 with the endpoint's protocol code while the connection allows an answer,
 * the process lives on, and a normal poll still gets its answer right after. The crash of issue 16
 * (a multipart body that ends inside a file part) is checked on every endpoint and storage mode.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerConfig } from '../src/index.js';
import { redisServerMissing, startRedisServer, type RedisServerProcess } from '../src/testing/redis-server.js';
import { rawExchange, type RawOutcome, type RawResponse } from '../src/testing/raw-http.js';
import { answersPolls } from '../src/testing/raw-fuzz.js';
import { b64, png, startTestServer, type TestServer } from './helpers.js';

const CRLF = '\r\n';

function head(method: string, path: string, headers: readonly string[] = []): string {
  return `${method} ${path} HTTP/1.1${CRLF}Host: test${CRLF}${headers.map((h) => h + CRLF).join('')}${CRLF}`;
}

/** The request of issue 16: an exact Content-Length, and a body that ends inside a file part. */
function cutMultipart(path: string): string {
  const body = `--XX${CRLF}Content-Disposition: form-data; name="file"; filename="c.png"${CRLF}${CRLF}abc`;
  return head('POST', path, ['Content-Type: multipart/form-data; boundary=XX', `Content-Length: ${body.length}`]) + body;
}

function only(outcome: RawOutcome): RawResponse {
  assert.equal(outcome.hung, false, 'the server neither answered nor closed');
  assert.equal(outcome.responses.length, 1, `one answer expected; trailing ${JSON.stringify(outcome.trailing.slice(0, 100))}`);
  return outcome.responses[0] as RawResponse;
}

async function expectCode(t: TestServer, chunks: readonly (string | Uint8Array)[], code: string): Promise<void> {
  const response = only(await rawExchange(t.url, chunks));
  assert.equal(response.status, 200);
  assert.equal(response.body.startsWith('{') ? (JSON.parse(response.body) as { request: string }).request : response.body, code);
  assert.ok(await answersPolls(t.url, t.key), 'a normal poll still gets its answer');
}

const redisMissing = redisServerMissing();

/** The crash repro on both endpoints, for one storage mode. */
function crashRegression(name: string, skip: string | undefined, start: () => Promise<{ t: TestServer; close(): Promise<void> }>): void {
  test(`${name}: a multipart body cut inside a file part answers the endpoint's code, and the server lives on`, { skip }, async () => {
    const { t, close } = await start();
    try {
      await expectCode(t, [cutMultipart('/in.php')], 'ERROR_UPLOAD');
      await expectCode(t, [cutMultipart('/res.php')], 'ERROR_BAD_PARAMETERS');
      await expectCode(t, [cutMultipart('/in.php?json=1')], 'ERROR_UPLOAD');
      // A ban does not stop the body from being read first: the repro from a banned IP is answered too.
      const banned = await startTestServer({ banFailures: 1 });
      try {
        await rawExchange(banned.url, [head('GET', '/res.php?key=nope&action=getbalance')]);
        assert.equal(only(await rawExchange(banned.url, [cutMultipart('/in.php')])).body, 'IP_BANNED');
      } finally {
        await banned.close();
      }
    } finally {
      await close();
    }
  });
}

describe('the crash of issue 16, per storage mode', () => {
  crashRegression('SQLite', undefined, async () => {
    const t = await startTestServer();
    return { t, close: () => t.close() };
  });
  crashRegression('memory', undefined, async () => {
    const t = await startTestServer({ storage: 'memory' });
    return { t, close: () => t.close() };
  });
  crashRegression('Redis', redisMissing, async () => {
    const redis = await startRedisServer();
    const t = await startTestServer({ storage: 'redis', redisUrl: redis.url, redisPrefix: `test-${randomUUID()}:` } satisfies Partial<ServerConfig>);
    return {
      t,
      close: async () => {
        await t.close();
        await redis.dispose();
      },
    };
  });
});

/** The shapes below, on SQLite and on a node of a Redis deployment. */
for (const storage of ['SQLite', 'Redis'] as const) {
  describe(`malformed HTTP still gets the protocol answer (${storage})`, { skip: storage === 'Redis' ? redisMissing : undefined }, () => {
    let redis: RedisServerProcess | undefined;
    before(async () => {
      if (storage === 'Redis') redis = await startRedisServer();
    });
    after(() => redis?.dispose());
    const serve = (overrides: Partial<ServerConfig> = {}): Promise<TestServer> =>
      startTestServer(redis ? { storage: 'redis', redisUrl: redis.url, redisPrefix: `test-${randomUUID()}:`, ...overrides } : overrides);

    test('a Content-Length that is not a number, or lies in either direction', async () => {
      const t = await serve();
      try {
        const form = `key=${t.key}&action=getbalance`;
        await expectCode(t, [head('POST', '/in.php?json=1', ['Content-Length: abc']), 'abc'], 'ERROR_UPLOAD');
        await expectCode(t, [head('POST', '/res.php', ['Content-Length: 12, 13']), form], 'ERROR_BAD_PARAMETERS');
        // Too long: the client half-closes after its body, so the server knows nothing more comes.
        await expectCode(
          t,
          [head('POST', '/res.php', ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${form.length + 100}`]), form],
          'ERROR_BAD_PARAMETERS',
        );
        await expectCode(t, [head('POST', '/in.php', ['Content-Type: application/x-www-form-urlencoded', 'Content-Length: 50000000']), form], 'ERROR_UPLOAD');
        // Too short: the rest is read as a second request, which is garbage; both are answered, in order.
        const outcome = await rawExchange(t.url, [
          `${head('POST', '/res.php', ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${form.length}`]) + form}garbage${CRLF}${CRLF}`,
        ]);
        assert.deepEqual(
          outcome.responses.map((r) => [r.status, r.body]),
          [
            [200, '0'],
            [200, 'ERROR_BAD_PARAMETERS'],
          ],
        );
      } finally {
        await t.close();
      }
    });

    test('chunked encoding broken or cut off, and a connection closed mid-body', async () => {
      const t = await serve();
      try {
        const te = ['Content-Type: application/x-www-form-urlencoded', 'Transfer-Encoding: chunked'];
        await expectCode(t, [head('POST', '/in.php', te), `3${CRLF}key${CRLF}ZZ${CRLF}xx${CRLF}0${CRLF}${CRLF}`], 'ERROR_UPLOAD');
        await expectCode(t, [head('POST', '/res.php', te), `3${CRLF}key${CRLF}5${CRLF}ab`], 'ERROR_BAD_PARAMETERS');
        await expectCode(t, [head('POST', '/in.php', te), `ffffffffffffffffff${CRLF}key`], 'ERROR_UPLOAD');
        // Well-formed chunks with an extension are read as usual.
        const form = `key=${t.key}&action=getbalance`;
        await expectCode(t, [head('POST', '/res.php', te), `${form.length.toString(16)};x=1${CRLF}${form}${CRLF}0${CRLF}${CRLF}`], '0');
        // A client that vanishes mid-body gets nothing, and takes nothing down with it.
        for (let i = 0; i < 20; i++) {
          const outcome = await rawExchange(t.url, [cutMultipart('/in.php').slice(0, 90 + i)], { afterWriting: 'close' });
          assert.equal(outcome.hung, false);
        }
        assert.ok(await answersPolls(t.url, t.key));
      } finally {
        await t.close();
      }
    });

    test('pipelined requests are answered in order', async () => {
      const t = await serve();
      try {
        const get = head('GET', `/res.php?key=${t.key}&action=getbalance`);
        const post = (body: string): string =>
          head('POST', '/res.php?json=1', ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${body.length}`]) + body;
        const outcome = await rawExchange(t.url, [get + post(`key=${t.key}&action=get&id=1`) + get], { afterWriting: 'keep', expect: 3 });
        const [first, second, third] = outcome.responses.map((r) => r.body);
        assert.equal(first, '0');
        assert.match(second ?? '', /^\{"status":0,"request":"ERROR_WRONG_CAPTCHA_ID"/);
        assert.equal(third, '0');
      } finally {
        await t.close();
      }
    });

    test('a base64 image in a GET query, up to the image size limit; a longer request line answers ERROR_TOO_BIG_CAPTCHA_FILESIZE', async () => {
      const t = await serve();
      try {
        // A 12 kB image failed with HTTP 431 before; the documented limit is 100 kB (102 400 bytes).
        for (const size of [12_000, 102_400]) {
          const query = new URLSearchParams({ key: t.key, method: 'base64', body: b64(png(size)) });
          const answer = await fetch(`${t.url}/in.php?${query}`);
          assert.equal(answer.status, 200);
          assert.match(await answer.text(), /^OK\|\d+$/, `a ${size}-byte image`);
        }
        const huge = `/in.php?key=${t.key}&method=base64&body=${'A'.repeat(600_000)}`;
        await expectCode(t, [head('GET', huge)], 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
        // Past the first packet Node no longer has the path: only a submit can be this large, so it answers as one.
        await expectCode(t, [head('GET', `/res.php?json=1&x=${'A'.repeat(600_000)}`)], 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
        // Within the first packet the path is known, and res.php answers its own code.
        const limited = await serve({ imageMaxBytes: 1000 });
        try {
          await expectCode(limited, [head('GET', `/res.php?json=1&x=${'A'.repeat(40_000)}`)], 'ERROR_BAD_PARAMETERS');
        } finally {
          await limited.close();
        }
      } finally {
        await t.close();
      }
    });

    test('a body over the limit is read to its end before the answer, so a client that writes it all first sees the answer', async () => {
      const t = await serve({ bodyLimitBytes: 64 * 1024 });
      try {
        for (const type of ['application/x-www-form-urlencoded', 'application/json', 'multipart/form-data; boundary=XX', 'text/plain']) {
          const size = 3 * 1024 * 1024;
          const outcome = await rawExchange(t.url, [head('POST', '/in.php', [`Content-Type: ${type}`, `Content-Length: ${size}`]), Buffer.alloc(size, 0x61)]);
          assert.equal(outcome.reset, false, `${type}: the connection was reset`);
          assert.equal(only(outcome).body, 'ERROR_TOO_BIG_CAPTCHA_FILESIZE', type);
        }
        assert.ok(await answersPolls(t.url, t.key));
      } finally {
        await t.close();
      }
    });

    test('an error on the listening socket (accept failing under a connection flood) is logged, not thrown', async () => {
      const t = await serve();
      try {
        t.server.app.server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
        assert.ok(await answersPolls(t.url, t.key));
      } finally {
        await t.close();
      }
    });

    test('requests without a Host header, with other methods, or with a malformed Content-Type', async () => {
      const t = await serve();
      try {
        await expectCode(t, [`GET /res.php?key=${t.key}&action=getbalance HTTP/1.1${CRLF}${CRLF}`], '0');
        await expectCode(t, [head('PUT', `/in.php?key=${t.key}`)], 'ERROR_BAD_PARAMETERS');
        await expectCode(t, [head('POST', '/in.php', ['Content-Type: ;;;', 'Content-Length: 5']), 'key=x'], 'ERROR_UPLOAD');
        await expectCode(t, [`BREW /in.php HTTP/1.1${CRLF}${CRLF}`], 'ERROR_UPLOAD');
        await expectCode(t, [Buffer.from([0, 1, 2, 3, 255, 13, 10, 13, 10])], 'ERROR_BAD_PARAMETERS');
      } finally {
        await t.close();
      }
    });
  });
}
