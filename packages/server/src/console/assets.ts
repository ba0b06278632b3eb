/**
 * The console's web app, as @solvebox/console-ui built it (`npm run build`): read once at start and
 * served from memory, with ETags. Nothing is fetched from elsewhere, so the console works offline.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { assetsDir } from '@solvebox/console-ui';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
}

export interface Assets {
  readonly index: Buffer;
  /** By file name under /assets/. */
  readonly files: ReadonlyMap<string, Asset>;
}

const FILES = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' } as const;

export function loadAssets(): Assets {
  const index = new URL('index.html', assetsDir);
  if (!existsSync(index)) {
    throw new Error('the console is not built: run `npm run build` (it bundles packages/console-ui), or start with --console 0');
  }
  const files = new Map<string, Asset>();
  for (const [name, type] of Object.entries(FILES)) {
    const body = readFileSync(new URL(name, assetsDir));
    files.set(name, { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return { index: readFileSync(index), files };
}
