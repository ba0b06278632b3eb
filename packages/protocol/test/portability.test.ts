/** The protocol package runs in browsers too: no Node built-ins, no Buffer, no runtime dependencies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('no Node built-ins or Buffer in the protocol sources', () => {
  for (const file of sources(join(pkg, 'src'))) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /from ['"]node:|require\(|\bBuffer\b|\bprocess\./, file);
  }
});

test('no runtime dependencies', () => {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { dependencies?: object };
  assert.deepEqual(manifest.dependencies ?? {}, {});
});
