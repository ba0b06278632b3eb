// Byte-level fuzzing of a real Solvebox server (never run by CI): `npm run fuzz [-- --cases N --seed S --redis]`.
// Starts a server on a free port (SQLite in a temporary folder, or a node on a throwaway redis-server
// with --redis), sends N raw requests (default 20 000; see packages/server/src/testing/raw-fuzz.ts),
// checks after every batch of 250 that a normal poll is still answered, and prints the counts.
// Exits 1 when any answer was not a protocol answer, any connection hung, or the server stopped answering.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAccount, configWith, loadConfig, startServer } from '@solvebox/server';
import { FUZZ_BODY_LIMIT, fuzzRaw } from '@solvebox/server/testing/raw-fuzz';
import { startRedisServer } from '@solvebox/server/testing';

const { values } = parseArgs({
  options: { cases: { type: 'string', default: '20000' }, seed: { type: 'string', default: '20261130' }, redis: { type: 'boolean', default: false } },
});
const total = Number(values.cases);
const seed = Number(values.seed);

const dir = mkdtempSync(join(tmpdir(), 'solvebox-fuzz-'));
const redis = values.redis ? await startRedisServer() : undefined;
const config = configWith({
  host: '127.0.0.1',
  port: 0,
  db: join(dir, 'solvebox.db'),
  logLevel: 'silent',
  solvers: loadConfig({ solvers: '*=sandbox' }).solvers,
  banFailures: 1_000_000,
  imageMaxBytes: 4000,
  bodyLimitBytes: FUZZ_BODY_LIMIT,
  tokenDeadlineMs: 500,
  imageDeadlineMs: 500,
  ...(redis ? { storage: 'redis', redisUrl: redis.url } : {}),
});
const server = await startServer(config);
const { key } = await createAccount(server.services.storage, { threads: 5, balanceMicros: 0, proxiesAllowed: true });
const started = Date.now();
console.log(`fuzzing ${server.url} (${redis ? 'Redis' : 'SQLite'}) with ${total} raw requests, seed ${seed}`);
const counts = await fuzzRaw({
  url: server.url,
  key,
  seed,
  total,
  onBatch: (c) => {
    if (c.cases % 5000 === 0) console.log(`  ${c.cases} cases, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
});
await server.close();
await redis?.dispose();
rmSync(dir, { recursive: true, force: true });

console.log(`\ncases                      ${counts.cases}`);
console.log(`answers on open connections ${counts.responses}`);
console.log(`non-protocol answers       ${counts.nonProtocol}`);
console.log(`open connections unanswered ${counts.unanswered}`);
console.log(`hangs over 5 s             ${counts.hangs}`);
console.log(`crashes (failed liveness)  ${counts.crashes}`);
console.log(`seconds                    ${((Date.now() - started) / 1000).toFixed(1)}`);
console.log('\ncases by kind:');
for (const [kind, n] of Object.entries(counts.byKind).sort()) console.log(`  ${kind.padEnd(36)} ${n}`);
if (counts.failures.length > 0) console.log(`\nfirst failures:\n  ${counts.failures.join('\n  ')}`);
process.exit(counts.nonProtocol + counts.unanswered + counts.hangs + counts.crashes === 0 ? 0 : 1);
