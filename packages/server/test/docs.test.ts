/** Generated docs must match their sources: regenerate with `npm run docs`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOG } from '@solvebox/protocol';
import { GENERATED_DOCS } from '../src/docs/render.js';
import { OPTIONS } from '../src/config.js';

// dist/test/docs.test.js → repository root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

for (const [path, render] of GENERATED_DOCS) {
  test(`${path} is up to date with its source (run \`npm run docs\` if not)`, () => {
    assert.equal(readFileSync(join(root, path), 'utf8'), render());
  });
}

test('docs/errors.md has one section per catalog code, and no others', () => {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const sections = [...doc.matchAll(/^## `([^`]+)`$/gm)].map((m) => m[1]);
  assert.deepEqual(sections, Object.keys(ERROR_CATALOG));
});

test('the README links every generated document', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const missing = GENERATED_DOCS.map(([path]) => path).filter((path) => !readme.includes(`(${path})`));
  assert.deepEqual(missing, []);
});

test('docs/configuration.md lists every option with its environment variable', () => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  assert.deepEqual(
    OPTIONS.filter((o) => !doc.includes(`\`--${o.flag}\``)).map((o) => o.flag),
    [],
  );
});
