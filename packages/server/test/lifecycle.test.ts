/** Task lifecycle across restarts, pingbacks, and the client loop of the vendors' templates. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { PINGBACK_SIGNATURE_HEADER, verifyPingback } from '@solvebox/protocol';
import type { Logger } from '../src/logger.js';
import { getQuery, PAGE, RECAPTCHA_KEY, startTestServer, submitOk, tempDir, turnstile, waitForResult } from './helpers.js';

describe('restarts', () => {
  test('a graceful restart loses no accepted task: in-flight tasks are requeued and solved after the restart', async () => {
    const dir = tempDir();
    try {
      const first = await startTestServer({}, {}, dir);
      const key = first.key;
      const inFlight = await submitOk(first, turnstile('delay:0.5'));
      const queuedBehind = await submitOk(first, turnstile('delay:0.2'));
      await sleep(100); // both are being solved now
      assert.equal((await getQuery(first.url, '/res.php', { key, action: 'get', id: inFlight })).body, 'CAPCHA_NOT_READY');
      await first.server.close();

      const second = await startTestServer({}, {}, dir);
      try {
        const client = { url: second.url, key };
        assert.match(await waitForResult(client, inFlight), /^OK\|0\.SANDBOX_/);
        assert.match(await waitForResult(client, queuedBehind), /^OK\|0\.SANDBOX_/);
      } finally {
        await second.server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('tasks whose deadline passed while the server was down end as ERROR_CAPTCHA_UNSOLVABLE', async () => {
    const dir = tempDir();
    try {
      const first = await startTestServer({ tokenDeadlineMs: 300 }, {}, dir);
      const id = await submitOk(first, turnstile('delay:5'));
      await first.server.close();
      await sleep(400);
      const second = await startTestServer({ tokenDeadlineMs: 300 }, {}, dir);
      try {
        assert.equal(await waitForResult({ url: second.url, key: first.key }, id), 'ERROR_CAPTCHA_UNSOLVABLE');
      } finally {
        await second.server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pingback', () => {
  test('the answer is POSTed to the pingback URL as id and code, also in its query, signed with the account key', async () => {
    const received: { url: string; body: string; contentType: string | undefined; signature: string | undefined }[] = [];
    let failFirst = true;
    const receiver = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end();
          return;
        }
        const signature = req.headers[PINGBACK_SIGNATURE_HEADER];
        received.push({ url: req.url ?? '', body, contentType: req.headers['content-type'], signature: typeof signature === 'string' ? signature : undefined });
        res.writeHead(200).end('ok');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const port = (receiver.address() as AddressInfo).port;
    const t = await startTestServer({ pingbackPrivate: true });
    try {
      const id = await submitOk(t, {
        method: 'turnstile',
        sitekey: '1x00000000000000000000AA',
        pageurl: PAGE,
        pingback: `http://127.0.0.1:${port}/hook?token=abc`,
      });
      const failed = await submitOk(t, turnstile('unsolvable', { pingback: `http://127.0.0.1:${port}/hook` }));
      const deadline = Date.now() + 8000;
      while (received.length < 2 && Date.now() < deadline) await sleep(50);
      const byId = new Map(received.map((r) => [new URLSearchParams(r.body).get('id'), r]));
      const solved = byId.get(id);
      assert.ok(solved, 'the solved task was delivered (after one 503)');
      assert.equal(solved.contentType, 'application/x-www-form-urlencoded;charset=UTF-8');
      assert.equal(new URLSearchParams(solved.body).get('code'), 'XXXX.DUMMY.TOKEN.XXXX');
      const query = new URLSearchParams(solved.url.split('?')[1]);
      assert.equal(query.get('token'), 'abc', "the receiver's own query is kept");
      assert.equal(query.get('id'), id);
      assert.equal(query.get('code'), 'XXXX.DUMMY.TOKEN.XXXX');
      assert.equal(new URLSearchParams(byId.get(failed)?.body).get('code'), 'ERROR_CAPTCHA_UNSOLVABLE');

      assert.equal(await verifyPingback(t.key, solved.body, solved.signature), true, 'the account verifies the signature with its key');
      assert.equal(await verifyPingback(t.key, solved.body.replace('XXXX', 'YYYY'), solved.signature), false, 'a changed body fails');
      assert.equal(await verifyPingback('f'.repeat(32), solved.body, solved.signature), false, 'another key fails');
      assert.equal(await verifyPingback(t.key, solved.body, solved.signature, Date.now() / 1000 + 3600), false, 'an old signature fails');
    } finally {
      await t.close();
      receiver.close();
    }
  });

  test('SSRF: private targets are refused at submit, and a host that resolves to one is never contacted', async () => {
    const warnings: { problem?: string; host?: string }[] = [];
    const log = { error() {}, info() {}, debug() {}, warn: (fields: object) => void warnings.push(fields as { problem?: string }) } as unknown as Logger;
    const t = await startTestServer({}, { log });
    try {
      const refused = [
        'http://127.0.0.1:9/x',
        'http://localhost/x',
        'http://localhost./x',
        'http://2130706433/',
        'http://10.1.2.3/',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]/',
      ];
      refused.push('http://[::ffff:127.0.0.1]/', 'http://[fd00::1]/', 'http://192.168.1.1/', 'ftp://example.com/');
      for (const target of refused) {
        const answer = await getQuery(t.url, '/in.php', { key: t.key, ...turnstile(), pingback: target });
        assert.equal(answer.body, 'ERROR_BAD_PARAMETERS', target);
      }
      // The machine's own name resolves to one of its addresses, none of them public here.
      const host = hostname();
      const addresses = await lookup(host, { all: true }).catch(() => []);
      if (addresses.length === 0) return; // cannot resolve our own name: nothing to try
      const id = await submitOk(t, turnstile(undefined, { pingback: `http://${host}:9/hook` }));
      const deadline = Date.now() + 5000;
      while (warnings.length === 0 && Date.now() < deadline) await sleep(20);
      assert.equal(warnings[0]?.problem, 'the host resolves to a private address', `task ${id}`);
      assert.ok(!JSON.stringify(warnings).includes('/hook'), 'the log names the host only');
    } finally {
      await t.close();
    }
  });
});

describe("the client loop of the vendors' templates", () => {
  /**
   * The CaptchaAI / 2Captcha copy-paste template: submit to in.php, wait, then poll res.php every
   * few seconds while the answer is CAPCHA_NOT_READY. Delays are scaled down; the protocol is not.
   */
  async function templateSolve(base: string, key: string, params: Record<string, string>): Promise<string> {
    const submitted = await fetch(`${base}/in.php`, { method: 'POST', body: new URLSearchParams({ key, json: '1', ...params }) });
    const { status, request } = (await submitted.json()) as { status: number; request: string | number };
    if (status !== 1) throw new Error(String(request));
    await sleep(50); // "wait 15-20 seconds" for tokens
    for (let polls = 0; polls < 100; polls++) {
      const res = await fetch(`${base}/res.php?${new URLSearchParams({ key, action: 'get', id: String(request), json: '1' })}`);
      const answer = (await res.json()) as { status: number; request: string };
      if (answer.status === 1) return answer.request;
      if (answer.request !== 'CAPCHA_NOT_READY') throw new Error(answer.request);
      await sleep(20); // "then every 5 seconds"
    }
    throw new Error('timeout');
  }

  test('submit, wait, poll until ready: a sandbox token', async () => {
    const t = await startTestServer();
    try {
      const token = await templateSolve(t.url, t.key, { method: 'userrecaptcha', googlekey: RECAPTCHA_KEY, pageurl: `${PAGE}?sandbox=delay:0.2` });
      assert.match(token, /^03SANDBOX_[A-Za-z0-9]+$/);
      await assert.rejects(
        templateSolve(t.url, t.key, { method: 'turnstile', sitekey: '2x00000000000000000000AB', pageurl: PAGE }),
        /ERROR_CAPTCHA_UNSOLVABLE/,
      );
    } finally {
      await t.close();
    }
  });
});
