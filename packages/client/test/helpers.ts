/**
 * Client test helpers: a real Solvebox server (port 0, SQLite file), and a fault-injecting
 * reverse proxy in front of it that counts what the client sends and can break answers the way
 * real networks and load balancers do.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { configWith, createAccount, loadConfig, startServer, type RunningServer, type ServerConfig } from '@solvebox/server';
import type { SolveboxOptions } from '@solvebox/client';

/** Every task type to the sandbox: deterministic answers, and no OCR pool to start. */
export const SANDBOX_ONLY = loadConfig({ solvers: '*=sandbox' }).solvers;

export interface TestServer {
  readonly url: string;
  readonly server: RunningServer;
  readonly dbFile: string;
  newKey(threads?: number): Promise<string>;
  /** Tasks stored for a key's account, whatever their state. */
  taskCount(key: string): Promise<number>;
  close(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'solvebox-client-'));
  const config = configWith({
    host: '127.0.0.1',
    port: 0,
    db: join(dir, 'db.sqlite'),
    logLevel: 'silent',
    sweepIntervalMs: 50,
    solverRetryDelayMs: 20,
    solvers: SANDBOX_ONLY,
    ...overrides,
  });
  const server = await startServer(config);
  const keys = new Map<string, number>();
  return {
    url: server.url,
    server,
    dbFile: config.db,
    async newKey(threads = 5) {
      const { key, account } = await createAccount(server.services.storage, { threads, balanceMicros: 2_500_000, proxiesAllowed: true });
      keys.set(key, account.id);
      return key;
    },
    async taskCount(key) {
      // Storage has no verb that counts an account's tasks; the test reads the file directly.
      const db = (await import('better-sqlite3')).default;
      const handle = new db(config.db, { readonly: true });
      try {
        return (handle.prepare('SELECT count(*) AS n FROM tasks WHERE account_id = ?').get(keys.get(key)) as { n: number }).n;
      } finally {
        handle.close();
      }
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Fault =
  /** Answer with a load balancer's HTML error page; the request never reaches the server. */
  | 'html-502'
  /** Answer 200 with a body that is not a protocol answer. */
  | 'garbled'
  /** Forward the request, let the server act on it, then cut the connection: an ambiguous failure. */
  | 'forward-then-drop'
  /** Forward, then answer with an empty body. */
  | 'forward-then-empty';

export interface Seen {
  readonly endpoint: string;
  readonly params: URLSearchParams;
  /** What the client got back; empty while the request is in flight. */
  answer: string;
}

export interface FaultProxy {
  readonly url: string;
  readonly seen: Seen[];
  /** Decides the fault for each request (undefined: forward untouched). */
  fault: (endpoint: string, params: URLSearchParams) => Fault | undefined;
  count(predicate: (s: Seen) => boolean): number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const seen: Seen[] = [];
  const targetUrl = new URL(target);
  const proxy: FaultProxy = {
    url: '',
    seen,
    fault: () => undefined,
    count: (predicate) => seen.filter(predicate).length,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A connection whose client aborted mid-request can otherwise hold the close for a minute.
        server.closeAllConnections();
      }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const params = new URLSearchParams(url.search);
      for (const [k, v] of new URLSearchParams(body.toString())) params.set(k, v);
      const endpoint = url.pathname.slice(1);
      const fault = proxy.fault(endpoint, params);
      // Recorded on arrival, so that counts show when a request was sent, not when it was answered.
      const record: Seen = { endpoint, params, answer: '' };
      seen.push(record);
      if (fault === 'html-502') {
        record.answer = 'html-502';
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>');
        return;
      }
      if (fault === 'garbled') {
        record.answer = 'garbled';
        res.writeHead(200, { 'content-type': 'text/plain' }).end('Service temporarily overloaded');
        return;
      }
      const upstream = httpRequest({ host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (c: Buffer) => parts.push(c));
        answer.on('end', () => {
          const text = Buffer.concat(parts).toString();
          record.answer = fault ?? text;
          if (fault === 'forward-then-drop') return void res.socket?.destroy();
          if (fault === 'forward-then-empty') return void res.writeHead(200).end('');
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(text);
        });
      });
      upstream.on('error', () => res.socket?.destroy());
      upstream.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  (proxy as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

/** Client options that make the protocol's waits test-sized. */
export const FAST: Partial<SolveboxOptions> = {
  pollIntervalMs: 20,
  firstPollDelayMs: 0,
  retryBaseDelayMs: 20,
  threadWaitIntervalMs: 50,
  requestTimeoutMs: 2_000,
};

/** A real 8×8 PNG (in.php reads image headers); bytes after its end vary with the seed and are ignored by decoders. */
const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVR4nGP4jwMwDC0JALoev0Ewkwr8AAAAAElFTkSuQmCC',
  'base64',
);

export function pngBytes(size = 300, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 13 + seed) & 0xff;
  bytes.set(TINY_PNG.subarray(0, size));
  return bytes;
}

export const PAGE = 'https://example.com/login';
export const RECAPTCHA_TEST_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
export const sandbox = (directive: string): string => `${PAGE}?sandbox=${directive}`;

/** The rejection of a promise that must reject, typed loosely for assertions on error fields. */
// biome-ignore lint/suspicious/noExplicitAny: assertions read whatever fields an error has
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, any>> {
  try {
    await promise;
  } catch (err) {
    // biome-ignore lint/suspicious/noExplicitAny: as above
    return err as Error & Record<string, any>;
  }
  throw new Error('expected a rejection');
}
