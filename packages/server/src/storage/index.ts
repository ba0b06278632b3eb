/**
 * Picks the storage adapter the configuration names, and loads only that one: a Redis node never
 * loads the SQLite driver, and a SQLite server never loads the Redis client. The adapters
 * themselves are `@solvebox/server/storage/sqlite`, `.../redis` and `.../memory`.
 */
import type { ServerConfig } from '../config.js';
import type { Storage } from './types.js';

export type StorageConfig = Pick<ServerConfig, 'storage' | 'db' | 'sqliteBusyTimeoutMs' | 'sqliteSynchronous' | 'redisUrl' | 'redisPrefix'>;

export async function createStorage(config: StorageConfig): Promise<Storage> {
  switch (config.storage) {
    case 'memory': {
      const { MemoryStorage } = await import('./memory.js');
      return new MemoryStorage();
    }
    case 'redis': {
      const { RedisStorage } = await import('./redis/index.js');
      return RedisStorage.connect({ url: config.redisUrl, prefix: config.redisPrefix });
    }
    case 'sqlite': {
      const { SqliteStorage } = await import('./sqlite/index.js');
      return new SqliteStorage({ file: config.db, busyTimeoutMs: config.sqliteBusyTimeoutMs, synchronous: config.sqliteSynchronous });
    }
  }
}

export { redactUrl } from './redact.js';
export * from './types.js';
