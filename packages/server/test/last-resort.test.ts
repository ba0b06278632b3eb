/**
 * The last line of defence of `solvebox serve` and `solvebox worker`: a fault that escapes every
 * handler is logged, and the process keeps serving. Checked in a child process, since the fault
 * must really go uncaught.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const SCRIPT = `
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { installLastResort, createLogger } from '@solvebox/server';
installLastResort(createLogger('error'));
const server = createServer((_req, res) => res.end('still serving'));
server.listen(0, '127.0.0.1', async () => {
  setTimeout(() => new EventEmitter().emit('error', new Error('an emitter nobody listens to')));
  Promise.reject(new Error('a promise nobody awaits'));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const answer = await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text();
  process.stdout.write(answer);
  server.close();
});
`;

test('an uncaught exception and an unhandled rejection are logged, and the process keeps serving', () => {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { encoding: 'utf8', timeout: 10_000, cwd: new URL('..', import.meta.url) });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, 'still serving');
  assert.match(child.stderr, /"msg":"uncaught exception; the process keeps serving"/);
  assert.match(child.stderr, /an emitter nobody listens to/);
  assert.match(child.stderr, /"msg":"unhandled promise rejection; the process keeps serving"/);
});
