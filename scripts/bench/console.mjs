/**
 * The console's own figures, in Debian's Chromium: the page weight of the solve view, its first
 * contentful paint, and, over 20 text tasks, what the system adds to a person's time: from in.php
 * accepting a task to the task showing in the solve view, and from Enter to res.php having the
 * answer. The person's own time (reading, typing) comes on top; a scripted operator types at once.
 *
 *   npm run bench:console
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { configWith, createAccount, createOperator, loadConfig, startServer } from '@solvebox/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TASKS = 20;
const FIXTURE = readFileSync(new URL('../../packages/ocr/test/fixtures/captchapng-1.png', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'solvebox-bench-console-'));
const server = await startServer(
  configWith({
    port: 0,
    console: true,
    consolePort: 0,
    db: join(dir, 'bench.db'),
    logLevel: 'error',
    solvers: { ...loadConfig({ solvers: '*=sandbox' }).solvers, image: 'human' },
  }),
);
const { key } = await createAccount(server.services.storage, { threads: 50, balanceMicros: 0, proxiesAllowed: true });
const { password } = await createOperator(server.services.storage, 'bench', 'admin');
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

try {
  const page = await browser.newPage();
  const bytes = new Map();
  page.on('response', async (response) => {
    if (!response.url().startsWith(server.consoleUrl) || response.url().includes('/api/')) return;
    const body = await response.body().catch(() => Buffer.alloc(0));
    bytes.set(new URL(response.url()).pathname, body);
  });
  await page.goto(server.consoleUrl);
  await page.getByLabel('Operator').fill('bench');
  const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('Waiting for a task').waitFor();

  const toScreen = [];
  const toClient = [];
  for (let i = 0; i < TASKS; i++) {
    const submitted = performance.now();
    const body = new URLSearchParams({ key, method: 'base64', body: FIXTURE.toString('base64') });
    const id = (await (await fetch(`${server.url}/in.php`, { method: 'POST', body })).text()).slice(3);
    await page.locator(`[data-task="${id}"] img.captcha`).waitFor();
    await page.locator(`[data-task="${id}"] img.captcha`).evaluate((img) => (img.complete ? null : new Promise((resolve) => (img.onload = resolve))));
    toScreen.push(performance.now() - submitted);
    await page.keyboard.type('2817');
    const entered = performance.now();
    await page.keyboard.press('Enter');
    for (;;) {
      const answer = await (await fetch(`${server.url}/res.php?key=${key}&action=get&id=${id}`)).text();
      if (answer !== 'CAPCHA_NOT_READY') break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    toClient.push(performance.now() - entered);
  }

  const files = [...bytes].map(([path, body]) => ({ path, raw: body.length, gzip: gzipSync(body).length }));
  const total = files.reduce((sum, f) => ({ raw: sum.raw + f.raw, gzip: sum.gzip + f.gzip }), { raw: 0, gzip: 0 });
  console.log('page weight (the solve view, every file it loads):');
  for (const f of files) console.log(`  ${f.path.padEnd(16)} ${(f.raw / 1024).toFixed(1).padStart(7)} KiB  (${(f.gzip / 1024).toFixed(1)} KiB gzipped)`);
  console.log(`  ${'total'.padEnd(16)} ${(total.raw / 1024).toFixed(1).padStart(7)} KiB  (${(total.gzip / 1024).toFixed(1)} KiB gzipped)`);
  console.log(`first contentful paint of the login page: ${paint === null ? 'n/a' : `${paint.toFixed(0)} ms`}`);
  console.log(`${TASKS} text tasks: in.php accepted → task and image on screen: median ${median(toScreen).toFixed(0)} ms, p95 ${p95(toScreen).toFixed(0)} ms`);
  console.log(`${TASKS} text tasks: Enter → res.php has the answer: median ${median(toClient).toFixed(0)} ms, p95 ${p95(toClient).toFixed(0)} ms`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
