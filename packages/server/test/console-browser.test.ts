/**
 * The console in a real browser (Debian's Chromium through playwright-core), end to end: the
 * README's walk-through (log in, a client's image task declined by the real OCR model appears,
 * answered with the keyboard, read back from res.php), grids answered with clicks, hostile
 * instructions that must stay inert, and the dashboard's counts and admin actions.
 *
 * Skips without Chromium, saying why, except under CI=true, where .ci/run installs it and a
 * missing browser fails. SOLVEBOX_SCREENSHOTS=DIR saves the README's screenshots there.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createOperator } from '../src/index.js';
import { SANDBOX_ONLY, b64, getQuery, png, startTestServer, submitOk, waitForResult, type TestServer } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `no Chromium at ${CHROMIUM} (apt install chromium)`;
const SCREENSHOTS = process.env.SOLVEBOX_SCREENSHOTS;
const FIXTURES = fileURLToPath(new URL('../../../ocr/test/fixtures/', import.meta.url));
/** A real captcha, which the OCR model reads (and, at this test's threshold, declines). */
const CAPTCHA = readFileSync(join(FIXTURES, 'captchapng-1.png'));

async function login(page: Page, consoleUrl: string, name: string, password: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByLabel('Operator').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('Waiting for a task').waitFor();
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

describe('the console in a browser', { skip: missing }, () => {
  let t: TestServer;
  let consoleUrl: string;
  let browser: Browser;
  let page: Page;
  let password: string;
  const pageErrors: string[] = [];

  before(async () => {
    // Image tasks go to the real OCR model, which declines every reading below probability 1 here;
    // the default fallback hands them to the operators. Grids and text questions go to them directly.
    t = await startTestServer({
      console: true,
      consolePort: 0,
      solvers: { ...SANDBOX_ONLY, image: 'ocr', grid: 'human', textcaptcha: 'human' },
      ocrWorkers: 1,
      ocrMinConfidence: 1,
      banFailures: 2,
    });
    consoleUrl = t.server.consoleUrl as string;
    password = (await createOperator(t.server.services.storage, 'alice', 'admin'))?.password as string;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Refused requests (the 401 of /api/me before the login) are logged too; those are expected.
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && pageErrors.push(message.text()));
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  test('an operator logs in and answers a declined image task with the keyboard; res.php returns it', async () => {
    await login(page, consoleUrl, 'alice', password);
    const id = await submitOk(t, { method: 'base64', body: b64(CAPTCHA), numeric: 1, min_len: 4 });
    const image = page.locator(`[data-task="${id}"] img.captcha`);
    await image.waitFor();
    assert.ok(
      await image.evaluate(
        (img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth > 0,
      ),
      'the captcha image loaded',
    );
    assert.match((await page.locator('.hints').textContent()) ?? '', /digits only/);
    await screenshot(page, 'console-solve.png');
    // The hint check stops an answer that breaks it, before it leaves the browser.
    await page.keyboard.type('28l7');
    await page.getByText('digits only').nth(1).waitFor();
    await page.keyboard.press('Enter');
    assert.equal(await waitForResult(t, id, {}, 500).catch(() => 'not ready'), 'not ready');
    await page.locator('input.text').fill('');
    await page.keyboard.type('2817');
    await page.keyboard.press('Enter');
    assert.equal(await waitForResult(t, id), 'OK|2817');
    await page.getByText('Waiting for a task').waitFor();
    assert.equal(await page.getByTestId('solved-count').textContent(), '1');
  });

  test('Esc skips a task and F2 marks one unreadable', async () => {
    const skipped = await submitOk(t, { method: 'textcaptcha', textcaptcha: 'Which is larger, 3 or 5?' });
    await page.locator(`[data-task="${skipped}"]`).waitFor();
    await page.keyboard.press('Escape');
    await page.getByText('Waiting for a task').waitFor();
    const unreadable = await submitOk(t, { method: 'textcaptcha', textcaptcha: 'Unreadable?' });
    await page.locator(`[data-task="${unreadable}"]`).waitFor();
    await page.keyboard.press('F2');
    assert.equal(await waitForResult(t, unreadable), 'ERROR_CAPTCHA_UNSOLVABLE');
    // Skipped, the task waits for another operator; there is none, so it is still pending.
    assert.equal(await waitForResult(t, skipped, {}, 300).catch(() => 'pending'), 'pending');
  });

  test('a grid is answered by clicking cells', async () => {
    const id = await submitOk(t, { method: 'base64', recaptcha: 1, body: b64(png(600, 4)), textinstructions: 'Select all squares with buses' });
    await page.locator(`[data-task="${id}"] .grid .cell`).first().waitFor();
    assert.equal(await page.locator('.grid .cell').count(), 9);
    await page.locator('.grid .cell[data-cell="2"]').click();
    await page.locator('.grid .cell[data-cell="5"]').click();
    await page.keyboard.press('7');
    await page.keyboard.press('7');
    await page.keyboard.press('Enter');
    assert.equal(await waitForResult(t, id), 'OK|click:2/5');
  });

  test('instructions with markup and script run nothing and show as text', async () => {
    const hostile = `<script>window.pwned=1</script>"><img src=x onerror="window.pwned=2">`;
    const id = await submitOk(t, { method: 'textcaptcha', textcaptcha: hostile });
    await page.locator(`[data-task="${id}"]`).waitFor();
    assert.equal(await page.getByTestId('instructions').textContent(), hostile);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.equal(await page.locator('.solve script').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
    await page.keyboard.type('five');
    await page.keyboard.press('Enter');
    assert.equal(await waitForResult(t, id), 'OK|five');
  });

  test('the dashboard shows the counts; an admin lifts a ban and disables an account', async () => {
    const key = await t.newKey({ threads: 2 });
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('tr[data-solver="human:alice"]').waitFor();
    const row = (await page.locator('tr[data-solver="human:alice"]').textContent()) ?? '';
    assert.match(row, /^human:alice3/, 'three tasks answered by alice');
    assert.ok(Number(await page.getByTestId('solved-last-minute').textContent()) >= 3);
    // Leaving the solve view closed its event stream: no one is online (the dashboard refreshes every 2 s).
    await page.locator('[data-testid="operators-online"]', { hasText: /^0$/ }).waitFor();

    // Two unknown keys ban this address.
    await getQuery(t.url, '/in.php', { key: 'x'.repeat(32), method: 'post' });
    await getQuery(t.url, '/in.php', { key: 'y'.repeat(32), method: 'post' });
    await page.locator('tr[data-ip="127.0.0.1"]').waitFor();
    await screenshot(page, 'console-dashboard.png');
    await page.locator('tr[data-ip="127.0.0.1"] button').click();
    await page.locator('tr[data-ip="127.0.0.1"]').waitFor({ state: 'detached' });
    assert.notEqual((await getQuery(t.url, '/in.php', { key, method: 'post' })).body, 'IP_BANNED');

    const account = (await t.server.services.storage.listAccounts()).at(-1)?.id;
    await page.locator(`tr[data-account="${account}"] input[name="credit"]`).fill('2.5');
    await page.locator(`tr[data-account="${account}"] button`, { hasText: 'Credit' }).click();
    await page.locator(`tr[data-account="${account}"]`, { hasText: '2.5' }).waitFor();
    assert.equal((await t.server.services.storage.findAccount({ id: account as number }))?.balanceMicros, 2_500_000);
    await page.locator(`tr[data-account="${account}"] button`, { hasText: 'Disable' }).click();
    await page.locator(`tr[data-account="${account}"]`, { hasText: 'disabled' }).waitFor();
    assert.equal((await getQuery(t.url, '/in.php', { key, method: 'post' })).body, 'ERROR_KEY_DOES_NOT_EXIST');
    await page.locator('[data-testid="audit"] tr', { hasText: 'account.disable' }).waitFor();
    await page.locator('[data-testid="audit"] tr', { hasText: 'ban.lift' }).waitFor();
    assert.deepEqual(pageErrors, [], 'no errors in the page, and no Content-Security-Policy violations');
  });
});

describe('an image task routed to people directly', { skip: missing }, () => {
  test('appears in the solve view and is answered with the keyboard; res.php returns it', async () => {
    const t = await startTestServer({ console: true, consolePort: 0, solvers: { ...SANDBOX_ONLY, image: 'human' } });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const password = (await createOperator(t.server.services.storage, 'bo', 'solver'))?.password as string;
      const page = await browser.newPage();
      await login(page, t.server.consoleUrl as string, 'bo', password);
      assert.equal(await page.getByRole('link', { name: 'Dashboard' }).count(), 0, 'no dashboard for the solver role');
      const id = await submitOk(t, { method: 'base64', body: b64(CAPTCHA) });
      await page.locator(`[data-task="${id}"] img.captcha`).waitFor();
      await page.keyboard.type('2817');
      await page.keyboard.press('Enter');
      assert.equal(await waitForResult(t, id), 'OK|2817');
    } finally {
      await browser.close();
      await t.close();
    }
  });
});
