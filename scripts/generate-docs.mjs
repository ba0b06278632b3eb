// Writes the generated docs (see packages/server/src/docs/render.ts). Run through `npm run docs`, after a build.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DOCS } from '@solvebox/server/docs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const [path, render] of GENERATED_DOCS) {
  writeFileSync(join(root, path), render());
  console.log(`wrote ${path}`);
}
