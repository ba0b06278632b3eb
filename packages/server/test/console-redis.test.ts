/**
 * The human desk on a Redis deployment: an operator logged in to one node's console gets the tasks
 * submitted on another node and solved by a third process's human solver (a worker), and the
 * answer reaches res.php on every node. Skips without redis-server (fails under CI=true).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { startWorker } from '../src/index.js';
import { redisServerMissing, startRedisServer } from '../src/testing/redis-server.js';
import { OperatorSession } from './console-helpers.js';
import { SANDBOX_ONLY, b64, png, startTestServer, submitOk, testConfig, tempDir, waitForResult } from './helpers.js';

describe('the human desk across nodes', { skip: redisServerMissing() }, () => {
  test('a task submitted on one node reaches an operator on another, and the answer every node', async () => {
    const redis = await startRedisServer();
    const shared = {
      storage: 'redis',
      redisUrl: redis.url,
      redisPrefix: `test-${randomUUID()}:`,
      solvers: { ...SANDBOX_ONLY, image: 'human' },
      operatorLeaseMs: 1000,
    } as const;
    // Node a takes submits; node b serves the console; a worker runs the human solver. None of them is the other.
    const a = await startTestServer({ ...shared, runSolvers: false });
    const b = await startTestServer({ ...shared, runSolvers: false, console: true, consolePort: 0 });
    const worker = await startWorker(testConfig(tempDir(), shared));
    try {
      const operator = await OperatorSession.create(b.server.consoleUrl as string, b.server.services.storage, 'remote', 'solver');
      const desk = await operator.openDesk();
      try {
        const id = await submitOk(a, { method: 'base64', body: b64(png()), textinstructions: 'from node a' });
        const task = await desk.nextTask();
        assert.equal(task.id, id);
        assert.equal(task.instructions, 'from node a');
        assert.equal((await operator.get(`/api/desk/${id}/image/0`)).status, 200, 'the image travels with the task');
        assert.equal((await operator.post(`/api/desk/${id}/answer`, { text: 'across' })).status, 200);
        assert.equal(await waitForResult(a, id), 'OK|across');
        assert.equal(await waitForResult({ url: b.url, key: a.key }, id), 'OK|across');
        const stats = await a.server.services.storage.solverStats();
        assert.equal(stats.find((s) => s.solver === 'human:remote')?.solved, 1);
      } finally {
        desk.close();
      }
    } finally {
      await worker.close();
      await b.close();
      await a.close();
      await redis.dispose();
    }
  });
});
