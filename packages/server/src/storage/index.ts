/** Picks the storage adapter the configuration names. */
import type { ServerConfig } from '../config.js';
import { MemoryStorage } from './memory.js';
import { RedisStorage } from './redis/index.js';
import { SqliteStorage } from './sqlite/index.js';
import type { Storage } from './types.js';

export type StorageConfig = Pick<ServerConfig, 'storage' | 'db' | 'sqliteBusyTimeoutMs' | 'sqliteSynchronous' | 'redisUrl' | 'redisPrefix'>;

export async function createStorage(config: StorageConfig): Promise<Storage> {
  if (config.storage === 'memory') return new MemoryStorage();
  if (config.storage === 'redis') return RedisStorage.connect({ url: config.redisUrl, prefix: config.redisPrefix });
  return new SqliteStorage({ file: config.db, busyTimeoutMs: config.sqliteBusyTimeoutMs, synchronous: config.sqliteSynchronous });
}

export { MemoryStorage } from './memory.js';
export { RedisStorage, redactUrl, type RedisStorageOptions } from './redis/index.js';
export { SqliteStorage } from './sqlite/index.js';
export * from './types.js';
