#!/usr/bin/env node
// Committed entry point: npm links it as `solvebox` even before the TypeScript is built.
import('../dist/src/bin.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/bin.js')) {
    console.error('solvebox is not built yet: run `npm install` (or `npm run build`) in the repository root.');
    process.exit(1);
  }
  throw err;
});
