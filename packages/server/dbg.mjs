import { startServer, configWith, createAccount, loadConfig } from '@solvebox/server';
import { Solvebox } from '@solvebox/client';
import { writeFileSync } from 'node:fs';
const solvers = loadConfig({ solvers: '*=sandbox' }).solvers;
const up = await startServer(configWith({ port: 0, storage: 'sqlite', db: '/tmp/dbgup.db', logLevel: 'silent', solvers }));
const { key: upKey } = await createAccount(up.services.storage, { threads: 5, balanceMicros: 0, proxiesAllowed: true });
writeFileSync(
  '/tmp/ups.json',
  JSON.stringify({ upstreams: [{ name: 'a', url: up.url, keyEnv: 'UPK', types: ['turnstile'], pollInterval: 0.05, firstPoll: 0 }] }),
);
process.env.UPK = upKey;
const relay = await startServer(
  configWith({ port: 0, storage: 'memory', logLevel: 'silent', upstreams: '/tmp/ups.json', solvers: { ...solvers, turnstile: 'relay' } }),
);
const { key } = await createAccount(relay.services.storage, { threads: 5, balanceMicros: 0, proxiesAllowed: true });
const c = new Solvebox({ apiKey: key, baseUrl: relay.url, firstPollDelayMs: 0, pollIntervalMs: 50 });
const id = await c.submit({ type: 'turnstile', sitekey: '0x4AAAAAAAsandboxKey', pageurl: 'https://example.com/' });
console.log((await c.waitForResult(id)).value.slice(0, 20));
if (process.argv[2] === 'report') await c.report(id, 'bad');
await new Promise((r) => setTimeout(r, Number(process.argv[3] ?? 0)));
await relay.close();
const t = Date.now();
await up.app.close();
console.log('close', Date.now() - t);
await up.close();
