/**
 * The compatibility harness: a real Solvebox process on a free port (`solvebox serve`, sandbox for
 * every type, a fresh SQLite file), and the few ways of pointing a published client at it without
 * touching its request or answer logic: a subclass overriding its URL getters, an interceptor of
 * its own HTTP library, or, for clients that hard-code an `http://` host, a connection agent that
 * dials Solvebox whatever the host name (what a hosts-file entry does for users).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'cli', 'bin', 'solvebox.js');

export interface Solvebox {
  readonly url: string;
  readonly port: number;
  readonly key: string;
  /** in.php and res.php directly, for the answers a client's answers are compared with. */
  direct(path: '/in.php' | '/res.php', params: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export async function startSolvebox(): Promise<Solvebox> {
  const dir = mkdtempSync(join(tmpdir(), 'solvebox-compat-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLVEBOX_')));
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--console-port', '0', '--db', join(dir, 'solvebox.db'), '--solvers', '*=sandbox', '--ban-failures', '1000'],
    { env },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const started = await new Promise<{ url: string; key: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`solvebox did not start: ${stderr}`)), 15_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const url = /^listening on (http:\/\/\S+)$/m.exec(stdout)?.[1];
      const key = /^([0-9a-f]{32})$/m.exec(stdout)?.[1];
      if (url && key) {
        clearTimeout(timer);
        resolve({ url, key });
      }
    });
    child.on('exit', (code) => reject(new Error(`solvebox exited ${code}: ${stderr}`)));
  });
  return {
    ...started,
    port: Number(new URL(started.url).port),
    async direct(path, params) {
      return (await fetch(`${started.url}${path}?${new URLSearchParams({ key: started.key, ...params })}`)).text();
    },
    async close() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Rewrites a provider URL (`https://2captcha.com/res.php?...`) to the same path on Solvebox. */
export function redirectUrl(url: string, solvebox: Pick<Solvebox, 'url'>): string {
  const parsed = new URL(url);
  return `${solvebox.url}${parsed.pathname}${parsed.search}`;
}

/**
 * For clients that hard-code `http://2captcha.com` or `https://2captcha.com` and use Node's default
 * agent for it: every connection of that agent goes to Solvebox's port on loopback, as plain TCP
 * (for HTTPS, where users put a TLS-terminating proxy in front), whatever host the URL names.
 * Returns a function that restores the previous agent.
 */
export function dialSolvebox(module: typeof http | typeof https, solvebox: Pick<Solvebox, 'port'>): () => void {
  const previous = module.globalAgent;
  const agent = new module.Agent({ keepAlive: false });
  (agent as unknown as { createConnection: () => ReturnType<typeof connect> }).createConnection = () => connect(solvebox.port, '127.0.0.1');
  module.globalAgent = agent;
  return () => {
    module.globalAgent = previous;
    agent.destroy();
  };
}

/**
 * Runs `body` with timers sped up `factor` times, for clients that hard-code their poll delays
 * (seconds between polls) with no option to change them. Only the delays change; the order of
 * events and every request stay as they are.
 */
export async function withFastTimers<T>(factor: number, body: () => Promise<T>): Promise<T> {
  const realSetTimeout = globalThis.setTimeout;
  const realSetInterval = globalThis.setInterval;
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    realSetTimeout(callback, Math.ceil((ms ?? 0) / factor), ...args)) as typeof setTimeout;
  globalThis.setInterval = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    realSetInterval(callback, Math.ceil((ms ?? 0) / factor), ...args)) as typeof setInterval;
  try {
    return await body();
  } finally {
    globalThis.setTimeout = realSetTimeout;
    globalThis.setInterval = realSetInterval;
  }
}

/** A real PNG (8×8), as a client would read it from a file. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVR4nGP4jwMwDC0JALoev0Ewkwr8AAAAAElFTkSuQmCC',
  'base64',
);
/** Padded past the 100-byte minimum image size; decoders ignore bytes after an image's end. */
export const IMAGE = Buffer.concat([PNG, Buffer.alloc(300, 7)]);

export const PAGE = 'https://example.com/login';
/** Google's reCAPTCHA test key, Cloudflare's always-pass and always-block Turnstile test keys. */
export const RECAPTCHA_KEY = '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI';
export const TURNSTILE_PASS = '1x00000000000000000000AA';
export const TURNSTILE_BLOCK = '2x00000000000000000000AB';
/** An unknown 32-character key: the real services answer ERROR_KEY_DOES_NOT_EXIST. */
export const UNKNOWN_KEY = 'f'.repeat(32);
/** A magic value of the sandbox: an image answered with exactly this text. */
export const IMAGE_ANSWER = 'W9H5K';
export const IMAGE_DIRECTIVE = `sandbox=answer:${IMAGE_ANSWER}`;
