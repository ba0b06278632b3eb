/**
 * The storage contract against a real redis-server started for this file on a free port, each
 * test under its own key prefix. Skips, saying why, where redis-server is not installed (fails under CI=true).
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { RedisStorage } from '../src/storage/redis/index.js';
import { redisServerMissing, startRedisServer, type RedisServerProcess } from '../src/testing/redis-server.js';
import { storageContract } from './storage-contract.js';

const missing = redisServerMissing();

describe('redis', { skip: missing }, () => {
  let redis: RedisServerProcess;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.dispose();
  });

  storageContract('redis', async () => {
    const prefix = `test-${randomUUID()}:`;
    const open = (): Promise<RedisStorage> => RedisStorage.connect({ url: redis.url, prefix });
    return { storage: await open(), reopen: open };
  });
});
