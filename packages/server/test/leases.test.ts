/** Leases as a client sees their effect: a long solve keeps its task, and its attempt, by renewing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, submitOk, turnstile, waitForResult } from './helpers.js';

test('a solve that outlasts its lease still answers: the runner renews the lease while the solver works', async () => {
  // One attempt only: had the lease run out, the sweep would requeue the task, and its second
  // lease would end it as ERROR_CAPTCHA_UNSOLVABLE.
  const t = await startTestServer({ leaseMs: 150, solverAttempts: 1, sweepIntervalMs: 20 });
  try {
    const id = await submitOk(t, turnstile('delay:0.7'));
    assert.match(await waitForResult(t, id), /^OK\|0\.SANDBOX_/);
    assert.deepEqual((await t.server.services.storage.solverStats()).map((s) => [s.solver, s.solved, s.failed]), [['sandbox', 1, 0]]);
  } finally {
    await t.close();
  }
});
