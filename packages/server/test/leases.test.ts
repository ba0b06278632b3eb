/** Leases as a client sees their effect: a long solve keeps its task, and its attempt, by renewing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestServer, submitOk, tempDir, turnstile, waitForResult } from './helpers.js';

test('a solve that outlasts its lease still answers: the runner renews the lease while the solver works', async () => {
  // One attempt only: had the lease run out, the sweep would requeue the task, and its second
  // lease would end it as ERROR_CAPTCHA_UNSOLVABLE.
  const t = await startTestServer({ leaseMs: 150, solverAttempts: 1, sweepIntervalMs: 20 });
  try {
    const id = await submitOk(t, turnstile('delay:0.7'));
    assert.match(await waitForResult(t, id), /^OK\|0\.SANDBOX_/);
    assert.deepEqual(
      (await t.server.services.storage.solverStats()).map((s) => [s.solver, s.solved, s.failed]),
      [['sandbox', 1, 0]],
    );
  } finally {
    await t.close();
  }
});

test('a task whose workers keep dying ends as ERROR_CAPTCHA_UNSOLVABLE after its attempts, not in a loop', async () => {
  const dir = tempDir();
  // An API-only node; the test plays two workers that lease the task and die without a word.
  const api = await startTestServer({ runSolvers: false, leaseMs: 100, sweepIntervalMs: 20 }, {}, dir);
  const id = await submitOk(api, turnstile());
  const storage = api.server.services.storage;
  for (let attempt = 1; attempt <= 2; attempt++) {
    await eventually(async () => (await storage.leaseTask(['turnstile'], Date.now(), 100))?.attempt === attempt, 2000, `lease ${attempt}`);
  }
  await api.server.close();
  // A healthy worker now meets the task on its third lease, with two attempts allowed.
  const worker = await startTestServer({ solverAttempts: 2, leaseMs: 100, sweepIntervalMs: 20 }, {}, dir);
  try {
    assert.equal(await waitForResult({ url: worker.url, key: api.key }, id), 'ERROR_CAPTCHA_UNSOLVABLE');
  } finally {
    await worker.close();
  }
});
