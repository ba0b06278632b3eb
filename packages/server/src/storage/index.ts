/** Picks the storage adapter the configuration names. */
import type { ServerConfig } from '../config.js';
import { MemoryStorage } from './memory.js';
import { SqliteStorage } from './sqlite/index.js';
import type { Storage } from './types.js';

export function createStorage(config: Pick<ServerConfig, 'storage' | 'db' | 'sqliteBusyTimeoutMs' | 'sqliteSynchronous'>): Storage {
  if (config.storage === 'memory') return new MemoryStorage();
  return new SqliteStorage({ file: config.db, busyTimeoutMs: config.sqliteBusyTimeoutMs, synchronous: config.sqliteSynchronous });
}

export { MemoryStorage } from './memory.js';
export { SqliteStorage } from './sqlite/index.js';
export * from './types.js';
