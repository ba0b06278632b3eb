// Runs every compiled test file (packages/*/dist/test/**/*.test.js) with Node's test runner.
// Extra arguments are passed to `node --test`, e.g. `--test-name-pattern=fuzz`.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = [];
function collect(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path);
    else if (entry.name.endsWith('.test.js')) files.push(path);
  }
}
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg, 'dist', 'test');
  if (existsSync(dir)) collect(dir);
}
if (files.length === 0) {
  console.error('no compiled tests found: run `npm run build` first');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--enable-source-maps', ...process.argv.slice(2), ...files.sort()], { stdio: 'inherit' });
process.exit(result.status ?? 1);
