/**
 * The in.php fast path (http/fast-submit.ts) against the normal route: the same requests, written
 * byte for byte to a server with fast paths and to one without, get the same status, headers and
 * body (task ids aside), for every body type it takes, good and bad, and for cut-short bodies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawExchange, type RawOutcome } from '../src/testing/raw-http.js';
import { b64, PAGE, png, RECAPTCHA_KEY, startTestServer, type TestServer } from './helpers.js';

const CRLF = '\r\n';

function post(path: string, type: string | undefined, body: string | Buffer, extra: readonly string[] = []): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const headers = [`Host: test`, ...(type === undefined ? [] : [`Content-Type: ${type}`]), `Content-Length: ${bytes.length}`, ...extra];
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1${CRLF}${headers.join(CRLF)}${CRLF}${CRLF}`), bytes]);
}

function multipart(fields: Record<string, string>, file?: Buffer): { type: string; body: Buffer } {
  const parts = Object.entries(fields).map(([name, value]) => `--XyZ${CRLF}Content-Disposition: form-data; name="${name}"${CRLF}${CRLF}${value}${CRLF}`);
  const chunks: Buffer[] = parts.map((p) => Buffer.from(p));
  if (file) {
    chunks.push(
      Buffer.from(`--XyZ${CRLF}Content-Disposition: form-data; name="file"; filename="c.png"${CRLF}Content-Type: image/png${CRLF}${CRLF}`),
      file,
      Buffer.from(CRLF),
    );
  }
  chunks.push(Buffer.from(`--XyZ--${CRLF}`));
  return { type: 'multipart/form-data; boundary=XyZ', body: Buffer.concat(chunks) };
}

/** What a client sees of an answer, with task ids made comparable. */
function seen(outcome: RawOutcome): string {
  assert.equal(outcome.hung, false);
  return JSON.stringify(
    outcome.responses.map((r) => ({
      status: r.status,
      headers: Object.entries(r.headers)
        .filter(([name]) => name !== 'date' && name !== 'keep-alive')
        .sort(([a], [b]) => a.localeCompare(b)),
      body: r.body.replace(/\d{16}/g, 'ID'),
    })),
  );
}

test('in.php posts answered by the fast path are byte for byte what the normal route answers', async () => {
  // Many failures without a ban, and enough threads: only the path differs between the two.
  const options = { banFailures: 1000, console: true, consolePort: 0 };
  const fast = await startTestServer(options);
  const normal = await startTestServer({ ...options, fastPaths: false });
  try {
    const requests = (t: TestServer): { name: string; bytes: Buffer; afterWriting?: 'keep' }[] => {
      const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
      const token = { key: t.key, method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: PAGE };
      const image = png(2000);
      const withFile = multipart({ key: t.key, method: 'post' }, Buffer.from(image));
      const jsonFile = multipart({ key: t.key, method: 'post', json: '1', header_acao: '1' }, Buffer.from(image));
      const tiny = multipart({ key: t.key, method: 'post' }, Buffer.from(png(10)));
      return [
        { name: 'form token', bytes: post('/in.php', 'application/x-www-form-urlencoded', form(token)) },
        { name: 'form token, json', bytes: post('/in.php', 'application/x-www-form-urlencoded; charset=UTF-8', form({ ...token, json: '1' })) },
        { name: 'form token, acao', bytes: post('/in.php?header_acao=1', 'Application/X-WWW-Form-Urlencoded', form(token)) },
        { name: 'form, key in the query', bytes: post(`/in.php?key=${t.key}&json=1`, 'application/x-www-form-urlencoded', form({ ...token, key: '' })) },
        { name: 'form, idempotency key', bytes: post('/in.php', 'application/x-www-form-urlencoded', form({ ...token, idempotency_key: 'k-1' })) },
        { name: 'form base64 image', bytes: post('/in.php', 'application/x-www-form-urlencoded', form({ key: t.key, method: 'base64', body: b64(image) })) },
        { name: 'form, no key', bytes: post('/in.php', 'application/x-www-form-urlencoded', form({ method: 'userrecaptcha' })) },
        { name: 'form, wrong key', bytes: post('/in.php', 'application/x-www-form-urlencoded', form({ ...token, key: 'f'.repeat(32) })) },
        { name: 'form, bad method', bytes: post('/in.php', 'application/x-www-form-urlencoded', form({ key: t.key, method: 'nope', json: '1' })) },
        { name: 'form, a JSON body', bytes: post('/in.php', 'application/x-www-form-urlencoded', JSON.stringify(token)) },
        { name: 'json token', bytes: post('/in.php', 'application/json', JSON.stringify({ ...token, json: 1 })) },
        { name: 'json, not an object', bytes: post('/in.php', 'application/json', '[1,2]') },
        { name: 'json, broken', bytes: post('/in.php?json=1', 'application/json', '{"key":') },
        { name: 'multipart image', bytes: post('/in.php', withFile.type, withFile.body) },
        { name: 'multipart image, json and acao', bytes: post('/in.php', jsonFile.type, jsonFile.body) },
        { name: 'multipart, image too small', bytes: post('/in.php', tiny.type, tiny.body) },
        { name: 'multipart, no boundary', bytes: post('/in.php', 'multipart/form-data', form(token)) },
        { name: 'multipart, cut inside the file', bytes: post('/in.php', withFile.type, withFile.body).subarray(0, -200) },
        { name: 'form, cut short', bytes: post('/in.php', 'application/x-www-form-urlencoded', form(token)).subarray(0, -10) },
        {
          name: 'form, two pipelined',
          bytes: Buffer.concat([
            post('/in.php', 'application/x-www-form-urlencoded', form(token)),
            post('/in.php', 'application/x-www-form-urlencoded', form({ ...token, json: '1' })),
          ]),
          afterWriting: 'keep',
        },
        { name: 'other type: the normal route for both', bytes: post('/in.php', 'text/csv', 'a,b') },
      ];
    };
    const fastRequests = requests(fast);
    const normalRequests = requests(normal);
    for (const [i, request] of fastRequests.entries()) {
      const other = normalRequests[i]!;
      const options = request.afterWriting ? { afterWriting: request.afterWriting, expect: 2 } : {};
      const a = seen(await rawExchange(fast.url, [request.bytes], options));
      const b = seen(await rawExchange(normal.url, [other.bytes], options));
      // The keys differ between the servers: the answers must not mention them, so they compare.
      assert.equal(a.replaceAll(fast.key, 'KEY'), b.replaceAll(normal.key, 'KEY'), request.name);
    }
    const fastSubmits = async (t: TestServer): Promise<number> =>
      Number(/^solvebox_http_fast_submits_total (\d+)$/m.exec((await t.server.services.metrics?.registry.metrics()) ?? '')?.[1]);
    assert.equal(await fastSubmits(fast), fastRequests.length, 'each request but the CSV one took the fast path (the pipelined pair counts twice)');
    assert.equal(await fastSubmits(normal), 0);
  } finally {
    await fast.close();
    await normal.close();
  }
});
