/** The client runs in browsers: no static Node imports, no Buffer, no runtime dependency but the protocol package. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('no static Node imports, no Buffer, no process in the client sources', () => {
  for (const name of readdirSync(join(pkg, 'src'))) {
    const text = readFileSync(join(pkg, 'src', name), 'utf8');
    assert.doesNotMatch(text, /from ['"]node:|require\(|\bBuffer\b|\bprocess\./, name);
  }
});

test('the only runtime dependency is @solvebox/protocol, which has none', () => {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  assert.deepEqual(Object.keys(manifest.dependencies ?? {}), ['@solvebox/protocol']);
});
