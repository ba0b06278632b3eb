/** The solvebox command as users run it: a real process, a real database file, real signals. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'solvebox.js');
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'ocr', 'test', 'fixtures');
const OCR_FIXTURE = (JSON.parse(readFileSync(join(FIXTURES, 'fixtures.json'), 'utf8')) as { file: string; answer: string; caseSensitive: boolean }[])[0]!;
// No SOLVEBOX_* settings of the caller's; the console on a free port, since test files run at once.
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLVEBOX_'))), SOLVEBOX_CONSOLE_PORT: '0' };

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: ENV });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly consoleUrl: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

async function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env: ENV });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${stderr}`)), 15_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = /^listening on (http:\/\/\S+)$/m.exec(stdout);
      // The console's line comes right after (ENV puts it on a free port).
      if (match && /^console on http:\/\/\S+$/m.test(stdout)) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  const consoleUrl = /^console on (http:\/\/\S+)$/m.exec(stdout)?.[1] as string;
  return { child, url, consoleUrl, stdout: () => stdout, stderr: () => stderr };
}

async function stop(served: Served, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (served.child.exitCode !== null) return served.child.exitCode;
  served.child.kill(signal);
  const [code] = await once(served.child, 'exit');
  return code as number | null;
}

const text = async (url: string): Promise<string> => (await fetch(url)).text();

describe('solvebox keys', () => {
  test('create prints the new 32-character key and nothing else; list shows hints only; disable and enable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'solvebox-cli-'));
    try {
      const db = join(dir, 'keys.db');
      const created = run(['keys', 'create', '--threads', '2', '--balance', '3.5', '--no-proxy', '--db', db]);
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /^[0-9a-f]{32}\n$/);
      const key = created.stdout.trim();

      const listed = run(['keys', 'list', '--json', '--db', db]);
      assert.equal(listed.status, 0, listed.stderr);
      const [account] = JSON.parse(listed.stdout) as {
        id: number;
        threads: number;
        balance: string;
        proxiesAllowed: boolean;
        keyHint: string;
        disabled: boolean;
      }[];
      assert.ok(account);
      assert.deepEqual([account.threads, account.balance, account.proxiesAllowed, account.disabled], [2, '3.5', false, false]);
      assert.ok(key.startsWith(account.keyHint.replace('…', '')));
      const table = run(['keys', 'list', '--db', db]).stdout;
      assert.match(table, /^ID\s+KEY\s+THREADS/);
      assert.ok(!table.includes(key), 'the key itself is never shown again');

      assert.equal(run(['keys', 'disable', key, '--db', db]).status, 0);
      assert.equal((JSON.parse(run(['keys', 'list', '--json', '--db', db]).stdout) as { disabled: boolean }[])[0]?.disabled, true);
      assert.equal(run(['keys', 'enable', String(account.id), '--db', db]).status, 0);
      assert.equal((JSON.parse(run(['keys', 'list', '--json', '--db', db]).stdout) as { disabled: boolean }[])[0]?.disabled, false);
      const missing = run(['keys', 'disable', 'f'.repeat(32), '--db', db]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /no such key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('operators: create prints the generated password and nothing else; list hides it; disable and enable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'solvebox-cli-'));
    try {
      const db = join(dir, 'operators.db');
      const created = run(['operators', 'create', 'ana', '--role', 'admin', '--db', db]);
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /^[A-Za-z0-9_-]{20}\n$/);
      assert.equal(run(['operators', 'create', 'ben', '--db', db]).status, 0);
      const again = run(['operators', 'create', 'ana', '--db', db]);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /exists already/);
      assert.equal(run(['operators', 'create', 'bad name', '--db', db]).status, 2);
      assert.equal(run(['operators', 'create', 'x', '--role', 'root', '--db', db]).status, 2);

      const listed = JSON.parse(run(['operators', 'list', '--json', '--db', db]).stdout) as { name: string; role: string; disabled: boolean }[];
      assert.deepEqual(
        listed.map((o) => [o.name, o.role, o.disabled]),
        [
          ['ana', 'admin', false],
          ['ben', 'solver', false],
        ],
      );
      assert.ok(!run(['operators', 'list', '--db', db]).stdout.includes('scrypt'), 'no password hash is shown');
      assert.equal(run(['operators', 'disable', 'ben', '--db', db]).status, 0);
      assert.equal((JSON.parse(run(['operators', 'list', '--json', '--db', db]).stdout) as { disabled: boolean }[])[1]?.disabled, true);
      assert.equal(run(['operators', 'enable', 'ben', '--db', db]).status, 0);
      assert.equal(run(['operators', 'disable', 'nobody', '--db', db]).status, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ocr samples: add a labelled folder, list, export, purge', () => {
    const dir = mkdtempSync(join(tmpdir(), 'solvebox-cli-'));
    try {
      const db = join(dir, 'samples.db');
      const labelled = join(dir, 'in');
      mkdirSync(labelled);
      const fixtures = ['captchapng-1.png', 'captchapng-2.png'];
      for (const file of fixtures) writeFileSync(join(labelled, file), readFileSync(join(FIXTURES, file)));
      writeFileSync(join(labelled, 'labels.tsv'), fixtures.map((file, i) => `${file}\t${['2817', '5555'][i]}\n`).join(''));
      const added = run(['ocr', 'samples', 'add', labelled, '--db', db]);
      assert.equal(added.status, 0, added.stderr);
      assert.match(added.stdout, /^added 2 samples; 2 kept in all$/m);
      assert.deepEqual(JSON.parse(run(['ocr', 'samples', 'list', '--json', '--db', db]).stdout), { total: 2, operator: 0, reported: 0, imported: 2 });

      const out = join(dir, 'out');
      assert.equal(run(['ocr', 'samples', 'export', out, '--db', db]).status, 0);
      assert.equal(readFileSync(join(out, 'labels.tsv'), 'utf8'), '000001.png\t2817\n000002.png\t5555\n');
      assert.deepEqual(readFileSync(join(out, '000001.png')), readFileSync(join(FIXTURES, fixtures[0] as string)));

      writeFileSync(join(labelled, 'labels.tsv'), 'missing.png\tabc\n');
      const bad = run(['ocr', 'samples', 'add', labelled, '--db', db]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /cannot read missing\.png/);
      assert.match(run(['ocr', 'samples', 'purge', '--db', db]).stdout, /^deleted 2 samples$/m);
      assert.equal((JSON.parse(run(['ocr', 'samples', 'list', '--json', '--db', db]).stdout) as { total: number }).total, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('usage errors exit with 2 and say what is wrong', () => {
    assert.equal(run([]).status, 2);
    const unknown = run(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const unused = join(tmpdir(), `solvebox-unused-${process.pid}.db`);
    const badThreads = run(['keys', 'create', '--threads', 'many', '--db', unused]);
    assert.equal(badThreads.status, 2);
    assert.match(badThreads.stderr, /--threads must be an integer/);
    assert.equal(existsSync(unused), false, 'no database is created for a refused command');
    const badFlag = run(['serve', '--prot', '80']);
    assert.equal(badFlag.status, 2);
    assert.match(badFlag.stderr, /--prot/);
    const badPort = run(['serve', '--port', 'eighty']);
    assert.equal(badPort.status, 2);
    assert.match(badPort.stderr, /--port must be an integer/);
    assert.equal(run(['serve', '--help']).status, 0);
  });
});

describe('solvebox serve', () => {
  test('first start creates an account and prints its key; the server answers; SIGTERM stops it cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'solvebox-cli-'));
    try {
      const db = join(dir, 'serve.db');
      const first = await serve(['--db', db, '--log-level', 'debug']);
      const key = /^([0-9a-f]{32})$/m.exec(first.stdout())?.[1];
      assert.ok(key, first.stdout());
      assert.match(first.url, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
      const submitted = await text(`${first.url}/in.php?key=${key}&method=turnstile&sitekey=1x00000000000000000000AA&pageurl=https://example.com/`);
      assert.match(submitted, /^OK\|[0-9]{16}$/);
      await sleep(100);
      assert.equal(await text(`${first.url}/res.php?key=${key}&action=get&id=${submitted.slice(3)}`), 'OK|XXXX.DUMMY.TOKEN.XXXX');

      // Image captchas are read by the shipped OCR model, out of the box.
      const form = new FormData();
      form.append('key', key);
      form.append('method', 'post');
      form.append('regsense', '1');
      form.append('file', new Blob([readFileSync(join(FIXTURES, OCR_FIXTURE.file))]), OCR_FIXTURE.file);
      const image = await (await fetch(`${first.url}/in.php`, { method: 'POST', body: form })).text();
      assert.match(image, /^OK\|[0-9]{16}$/);
      let answer = 'CAPCHA_NOT_READY';
      for (let i = 0; i < 200 && answer === 'CAPCHA_NOT_READY'; i++) {
        await sleep(50);
        answer = await text(`${first.url}/res.php?key=${key}&action=get&id=${image.slice(3)}`);
      }
      assert.equal(answer, `OK|${OCR_FIXTURE.answer}`);
      assert.equal(await text(`${first.url}/res.php?key=${key}&action=reportgood&id=${image.slice(3)}`), 'OK_REPORT_RECORDED');
      const stats = JSON.parse(run(['stats', '--json', '--db', db]).stdout) as {
        solver: string;
        solved: number;
        reportedGood: number;
        reportedAccuracy: number;
      }[];
      assert.deepEqual(
        stats.map((s) => [s.solver, s.solved, s.reportedGood, s.reportedAccuracy]),
        [
          ['ocr', 1, 1, 1],
          ['sandbox', 1, 0, null],
        ],
      );

      // The console's first operator: its password, printed once, logs in; it never reaches the log.
      const password = /^created the console operator "admin" \(admin\); its password is\n(\S+)$/m.exec(first.stdout())?.[1];
      assert.ok(password, first.stdout());
      const login = await fetch(`${first.consoleUrl}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'admin', password }),
      });
      assert.equal(login.status, 200);
      assert.ok(!first.stderr().includes(password), 'passwords never reach the log');

      // SIGHUP loads the OCR model again, and the server goes on reading with it.
      first.child.kill('SIGHUP');
      for (let i = 0; i < 200 && !/^reloaded the OCR model from shipped$/m.test(first.stdout()); i++) await sleep(50);
      assert.match(first.stdout(), /^reloaded the OCR model from shipped$/m);

      // Keys changed by the CLI apply to the running server.
      assert.equal(run(['keys', 'disable', key, '--db', db]).status, 0);
      assert.equal(await text(`${first.url}/res.php?key=${key}&action=getbalance`), 'ERROR_KEY_DOES_NOT_EXIST');
      await text(`${first.url}/in.php?key=${'0123456789abcdef'.repeat(2)}&method=turnstile`);

      assert.equal(await stop(first), 0);
      assert.ok(!first.stderr().includes(key), 'keys never reach the log');
      assert.ok(!first.stderr().includes('0123456789abcdef0123456789abcdef'), 'keys never reach the log');

      const second = await serve(['--db', db]);
      assert.doesNotMatch(second.stdout(), /API key/, 'only an empty database gets a first account');
      assert.doesNotMatch(second.stdout(), /password/, 'nor a first operator');
      assert.equal(await stop(second, 'SIGINT'), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a crash (SIGKILL) loses no accepted task: the next start requeues it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'solvebox-cli-'));
    try {
      const db = join(dir, 'crash.db');
      const key = run(['keys', 'create', '--db', db]).stdout.trim();
      const first = await serve(['--db', db]);
      const pageurl = encodeURIComponent('https://example.com/?sandbox=delay:1');
      const inFlight = (await text(`${first.url}/in.php?key=${key}&method=turnstile&sitekey=0x4AAAAAAAx&pageurl=${pageurl}`)).slice(3);
      await sleep(200);
      assert.equal(await text(`${first.url}/res.php?key=${key}&action=get&id=${inFlight}`), 'CAPCHA_NOT_READY');
      assert.equal(await stop(first, 'SIGKILL'), null);

      const second = await serve(['--db', db]);
      try {
        let answer = 'CAPCHA_NOT_READY';
        for (let i = 0; i < 100 && answer === 'CAPCHA_NOT_READY'; i++) {
          await sleep(50);
          answer = await text(`${second.url}/res.php?key=${key}&action=get&id=${inFlight}`);
        }
        assert.match(answer, /^OK\|0\.SANDBOX_/);
      } finally {
        await stop(second);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('environment variables configure the server; flags win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'solvebox-cli-'));
    try {
      const db = join(dir, 'env.db');
      const key = run(['keys', 'create', '--db', db]).stdout.trim();
      const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', db, '--json-default', '0'], {
        env: { ...ENV, SOLVEBOX_JSON_DEFAULT: '1', SOLVEBOX_IMAGE_MAX_BYTES: '150' },
      });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      while (!/listening on/.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`serve exited with code ${child.exitCode}`);
        await sleep(20);
      }
      const url = /listening on (\S+)/.exec(stdout)![1]!;
      const body = Buffer.alloc(200, 1);
      body.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const res = await fetch(`${url}/in.php`, { method: 'POST', body: new URLSearchParams({ key, method: 'base64', body: body.toString('base64') }) });
      assert.equal(await res.text(), 'ERROR_TOO_BIG_CAPTCHA_FILESIZE', 'env sets the limit; --json-default 0 beats SOLVEBOX_JSON_DEFAULT=1');
      child.kill('SIGTERM');
      await once(child, 'exit');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
