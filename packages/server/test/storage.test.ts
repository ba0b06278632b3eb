/** The storage contract against the memory adapter and a real SQLite file. */
import { join } from 'node:path';
import { after } from 'node:test';
import { rmSync } from 'node:fs';
import { MemoryStorage, SqliteStorage } from '../src/storage/index.js';
import { storageContract } from './storage-contract.js';
import { tempDir } from './helpers.js';

storageContract('memory', async () => ({ storage: new MemoryStorage() }));

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

storageContract('sqlite', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'contract.db');
  return { storage: new SqliteStorage({ file }), reopen: async () => new SqliteStorage({ file }) };
});
