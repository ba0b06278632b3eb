/** The README's SDK example runs as written against a real server (with test-sized poll delays). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pngBytes, startTestServer } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, '..', '..', '..', '..', 'README.md'), 'utf8');

test('the README SDK example runs', { timeout: 60_000 }, async () => {
  const block = /## Client SDK[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'the README has an SDK example');
  // The sandbox answers at once: skip the vendors' first-poll delays, nothing else changes.
  const script = block.replace('new Solvebox({', 'new Solvebox({ firstPollDelayMs: 0, pollIntervalMs: 50,');
  assert.notEqual(script, block);
  const file = join(here, 'readme-example.generated.mjs'); // inside the repository, so that @solvebox/client resolves
  const dir = mkdtempSync(join(tmpdir(), 'solvebox-readme-'));
  const t = await startTestServer();
  try {
    writeFileSync(file, script);
    writeFileSync(join(dir, 'captcha.png'), pngBytes());
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      cwd: dir,
      env: { ...process.env, SOLVEBOX_URL: t.url, SOLVEBOX_KEY: await t.newKey(10) },
    });
    assert.match(stdout, /text: '[0-9]{4,6}'/);
    assert.match(stdout, /turnstile: 'XXXX\.DUMMY\.TOKEN\.XXXX'/);
    assert.match(stdout, /clearance: \{\s+token: 'SANDBOX_\w+',\s+userAgent: 'Mozilla\/5\.0'\s+\}/);
    assert.match(stdout, /challenge: '2e2f0f65240058b683cb6ea21c303eea'/);
    assert.match(stdout, /cells: \[ [1-9]/);
    assert.match(stdout, /balance 2\.5/);
  } finally {
    rmSync(file, { force: true });
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  }
});
