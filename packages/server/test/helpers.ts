/** Test helpers: a real server on port 0 over a real SQLite file, and the four request encodings. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { configWith, createAccount, loadConfig, startServer, type RunningServer, type ServerConfig, type StartOptions } from '../src/index.js';

export interface TestServer {
  readonly url: string;
  /** A key of an account with 5 threads and proxies allowed. */
  readonly key: string;
  readonly server: RunningServer;
  readonly dbFile: string;
  newKey(options?: { threads?: number; balance?: number; proxiesAllowed?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** Every task type to the sandbox: deterministic answers, and no OCR pool to start. OCR tests opt in. */
export const SANDBOX_ONLY = loadConfig({ solvers: '*=sandbox' }).solvers;

/** Fast defaults for tests: quiet logs, quick sweeps and retries, the sandbox for every type. */
export function testConfig(dir: string, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return configWith({
    host: '127.0.0.1',
    port: 0,
    db: join(dir, 'solvebox.db'),
    logLevel: 'silent',
    sweepIntervalMs: 50,
    solverRetryDelayMs: 20,
    solvers: SANDBOX_ONLY,
    ...overrides,
  });
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'solvebox-test-'));
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}, options: StartOptions = {}, dir = tempDir()): Promise<TestServer> {
  const config = testConfig(dir, overrides);
  const server = await startServer(config, options);
  const newKey = async (o: { threads?: number; balance?: number; proxiesAllowed?: boolean } = {}): Promise<string> =>
    (
      await createAccount(server.services.storage, {
        threads: o.threads ?? 5,
        balanceMicros: Math.round((o.balance ?? 0) * 1e6),
        proxiesAllowed: o.proxiesAllowed ?? true,
      })
    ).key;
  return {
    url: server.url,
    key: await newKey(),
    server,
    dbFile: config.db,
    newKey,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
}

type Params = Record<string, string | number>;

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const stringify = (params: Params): Record<string, string> => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));

export async function getQuery(base: string, path: string, params: Params, headers: Record<string, string> = {}): Promise<Answer> {
  return answer(await fetch(`${base}${path}?${new URLSearchParams(stringify(params))}`, { headers }));
}

export async function postForm(base: string, path: string, params: Params, headers: Record<string, string> = {}): Promise<Answer> {
  return answer(await fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams(stringify(params)), headers }));
}

export async function postJson(base: string, path: string, body: unknown): Promise<Answer> {
  return answer(await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }));
}

export async function postMultipart(
  base: string,
  path: string,
  params: Params,
  files: Record<string, { filename: string; data: Uint8Array }> = {},
): Promise<Answer> {
  const form = new FormData();
  for (const [k, v] of Object.entries(params)) form.append(k, String(v));
  for (const [k, f] of Object.entries(files)) form.append(k, new Blob([f.data]), f.filename);
  return answer(await fetch(`${base}${path}`, { method: 'POST', body: form }));
}

export async function postRaw(base: string, path: string, body: string | Uint8Array, contentType: string): Promise<Answer> {
  return answer(await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': contentType } }));
}

/** Plain-text submit through the query string; returns the whole body (`OK|id` or a code). */
export async function submit(t: { url: string; key: string }, params: Params): Promise<string> {
  return (await getQuery(t.url, '/in.php', { key: t.key, ...params })).body;
}

/** Submits and returns the id, failing the test when the server refused. */
export async function submitOk(t: { url: string; key: string }, params: Params): Promise<string> {
  const body = await submit(t, params);
  if (!body.startsWith('OK|')) throw new Error(`submit refused: ${body}`);
  return body.slice(3);
}

export async function result(t: { url: string; key: string }, id: string, extra: Params = {}): Promise<string> {
  return (await getQuery(t.url, '/res.php', { key: t.key, action: 'get', id, ...extra })).body;
}

/** Polls res.php until the answer is not CAPCHA_NOT_READY, or fails after `timeoutMs`. */
export async function waitForResult(t: { url: string; key: string }, id: string, extra: Params = {}, timeoutMs = 5000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const body = await result(t, id, extra);
    if (!body.includes('CAPCHA_NOT_READY')) return body;
    if (Date.now() > end) throw new Error(`task ${id} still not ready after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ---- fixtures -----------------------------------------------------------------------------------

/** Real 8×8 images: in.php reads image headers, and decoders ignore bytes after an image's end. */
const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVR4nGP4jwMwDC0JALoev0Ewkwr8AAAAAElFTkSuQmCC',
  'base64',
);
const TINY_JPEG = Buffer.from(
  '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAIAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAf/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAAAP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKAAD//Z',
  'base64',
);
const TINY_GIF = Buffer.from('R0lGODlhCAAIAIAAAExpcf///yH5BAUAAAAALAAAAAAIAAgAAAIHjI+py+1dAAA7', 'base64');

/** A real image padded to `size` bytes (cut short below its own size); the seed varies the padding, so the sandbox's hash. */
function filled(image: Uint8Array, size: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(image.subarray(0, size));
  for (let i = image.length; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

export const png = (size = 400, seed = 7): Uint8Array => filled(TINY_PNG, size, seed);
export const jpeg = (size = 400): Uint8Array => filled(TINY_JPEG, size);
export const gif = (size = 400): Uint8Array => filled(TINY_GIF, size);
/** Not a supported format at all. */
export const bmp = (size = 400): Uint8Array => filled(new Uint8Array([0x42, 0x4d]), size);
export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

export const PAGE = 'https://example.com/login';
export const RECAPTCHA_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
export const TURNSTILE_PASS = '1x00000000000000000000AA';

/** A turnstile task whose sandbox outcome is chosen by `directive` (e.g. `delay:1`, `unsolvable`). */
export function turnstile(directive?: string, extra: Params = {}): Params {
  return {
    method: 'turnstile',
    sitekey: '0x4AAAAAAAsandboxKey',
    pageurl: directive === undefined ? PAGE : `${PAGE}?sandbox=${directive}`,
    ...extra,
  };
}
