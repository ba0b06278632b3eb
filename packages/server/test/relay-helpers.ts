/**
 * Relay test helpers: a Solvebox upstream (a real second server whose sandbox answers), a
 * fault-injecting fake upstream on loopback for what a Solvebox never sends, and a relaying server
 * configured with an upstreams file.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SANDBOX_ONLY, startTestServer, tempDir, type TestServer } from './helpers.js';
import type { ServerConfig, StartOptions } from '../src/index.js';
import type { Logger } from '../src/logger.js';
import type { TaskSpec } from '@solvebox/protocol';

/** An upstream entry as the file holds it. */
export type UpstreamEntry = Record<string, unknown> & { name: string; url: string; keyEnv: string; types: string[] };

/** Fast polling for tests: the SDK's 15 s first poll of a token task would dominate every test. */
export const FAST_POLLS = { pollInterval: 0.05, firstPoll: 0 };

/** A relaying server: `upstreams` written to a file, their keys put in the environment under their keyEnv. */
export async function startRelay(
  upstreams: readonly UpstreamEntry[],
  keys: Readonly<Record<string, string>>,
  overrides: Partial<ServerConfig> = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const dir = tempDir();
  const file = join(dir, 'upstreams.json');
  writeFileSync(file, JSON.stringify({ upstreams: upstreams.map((u) => ({ ...FAST_POLLS, ...u })) }, null, 2));
  for (const [name, key] of Object.entries(keys)) process.env[name] = key;
  return startTestServer(
    { upstreams: file, solvers: { ...SANDBOX_ONLY, turnstile: 'relay', image: 'relay', userrecaptcha: 'relay' }, ...overrides },
    options,
    dir,
  );
}

/** How many tasks an upstream Solvebox holds, read from its SQLite file: each upstream submit that was not a replay is one. */
export function upstreamTaskCount(upstream: TestServer): number {
  const db = new Database(upstream.dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) FROM tasks').pluck().get() as number;
  } finally {
    db.close();
  }
}

/** The spec of one of an upstream Solvebox's solved tasks, as it stored it, whichever account it is of. */
export async function upstreamSpec(upstream: TestServer, id: string): Promise<TaskSpec> {
  const storage = upstream.server.services.storage;
  for (const account of await storage.listAccounts()) {
    const solved = await storage.solvedTask(account.id, id, Date.now());
    if (solved) return solved.spec;
  }
  throw new Error(`the upstream has no solved task ${id}`);
}

/** A logger that keeps every line, to search the output for secrets and verbatim codes. */
export function capturingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const write =
    (level: string) =>
    (...args: unknown[]): void => {
      lines.push(`${level} ${args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : JSON.stringify(a, errorFields))).join(' ')}`);
    };
  return { lines, error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') } as Logger & { readonly lines: string[] };
}

function errorFields(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

/** What the fake upstream answers: per endpoint, a handler; requests are counted. */
export interface FakeUpstream {
  readonly url: string;
  readonly requests: { path: string; params: URLSearchParams }[];
  close(): Promise<void>;
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, params: URLSearchParams) => void | Promise<void>;

/** A loopback HTTP server that answers in.php and res.php with whatever `handlers` say. */
export async function startFakeUpstream(handlers: { in?: FakeHandler; res?: FakeHandler }): Promise<FakeUpstream> {
  const requests: { path: string; params: URLSearchParams }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const params = new URLSearchParams(url.search);
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString())) params.set(k, v);
      requests.push({ path: url.pathname, params });
      const handler = url.pathname === '/in.php' ? handlers.in : url.pathname === '/res.php' ? handlers.res : undefined;
      if (!handler) {
        res.writeHead(404).end('not found');
        return;
      }
      Promise.resolve(handler(req, res, params)).catch(() => res.destroy());
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Plain-text protocol answer (the relay's SDK asks for JSON, and takes plain text too). */
export function json(res: ServerResponse, status: number, request: string): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status, request }));
}
