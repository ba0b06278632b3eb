// Bundles the console into dist/: one script (Preact, htm, uPlot and ours), one stylesheet, the
// page. Nothing is loaded from elsewhere at run time, so the console works offline.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const dist = new URL('./dist/', import.meta.url);
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outfile: new URL('app.js', dist).pathname,
  legalComments: 'linked',
  logLevel: 'warning',
});
await build({
  entryPoints: [new URL('./src/style.css', import.meta.url).pathname],
  bundle: true,
  minify: true,
  outfile: new URL('app.css', dist).pathname,
  logLevel: 'warning',
});
copyFileSync(new URL('./src/index.html', import.meta.url), new URL('index.html', dist));
writeFileSync(new URL('BUILT', dist), 'built by build.mjs\n');
