// The packages' layering, checked by `npm test`: each package may import only the packages below it.
//   protocol ← client ← server ← cli,   protocol ← ocr ← server,   protocol ← console-ui ← server
// (the server's relay backend is a client of upstream providers: it talks to them with @solvebox/client).
// A package's source, tests, benchmarks and training scripts are all checked, both the
// `@solvebox/*` imports and relative paths that climb out of the package. Its dependencies may
// name only the packages it may import. Tests alone may also import a package's devDependencies
// (the client's tests run against a real server); src/ never. Import cycles inside a package are
// Biome's job (noImportCycles). Exits 1 and names every violation.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What each package may import. `compat` holds tests that talk to a real server process only. */
export const ALLOWED = {
  protocol: [],
  client: ['protocol'],
  ocr: ['protocol'],
  'console-ui': ['protocol'],
  server: ['protocol', 'client', 'ocr', 'console-ui'],
  cli: ['protocol', 'client', 'server'],
  compat: [],
};

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const SKIP = new Set(['node_modules', 'dist', 'data', 'model', 'fixtures', 'tmp']);
const IMPORT = /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function sourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name) || entry.name.startsWith('.') || entry.name.startsWith('data-')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

const violations = [];
for (const [pkg, allowed] of Object.entries(ALLOWED)) {
  const dir = join(root, 'packages', pkg);
  const ok = (name) => name === pkg || allowed.includes(name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) {
      if (name.startsWith('@solvebox/') && !ok(name.slice('@solvebox/'.length))) violations.push(`packages/${pkg}/package.json: ${field} names ${name}`);
    }
  }
  const testOnly = Object.keys(manifest.devDependencies ?? {}).filter((name) => name.startsWith('@solvebox/'));
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      const line = text.slice(0, match.index).split('\n').length;
      const where = `${relative(root, file)}:${line}`;
      if (specifier.startsWith('@solvebox/')) {
        const name = specifier.slice('@solvebox/'.length).split('/')[0];
        const inTests = relative(dir, file).split(sep)[0] === 'test';
        if (!ok(name) && !(inTests && testOnly.includes(`@solvebox/${name}`))) violations.push(`${where}: ${pkg} imports ${specifier}`);
      } else if (specifier.startsWith('.')) {
        const target = resolve(file, '..', specifier);
        if (!target.startsWith(dir + sep)) violations.push(`${where}: ${pkg} reaches outside its package with ${specifier}`);
      }
    }
  }
}

if (violations.length > 0) {
  console.error(`check-layers: ${violations.length} import(s) against the layering\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-layers: the packages import along the layering (${Object.keys(ALLOWED).join(', ')})`);
