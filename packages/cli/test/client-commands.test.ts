/** solvebox solve / result / balance / report, run as processes against a real server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { configWith, createAccount, loadConfig, startServer, type RunningServer } from '@solvebox/server';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'solvebox.js');
const FAST = ['--first-poll-delay', '0', '--poll-interval', '0.02', '--retry-delay', '0.02'];

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}, onStart?: (kill: (signal: NodeJS.Signals) => void) => void): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLVEBOX_'))) as Record<string, string>;
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  onStart?.((signal) => child.kill(signal));
  return once(child, 'exit').then(([status]) => ({ status: status as number | null, stdout, stderr }));
}

describe('client commands', () => {
  let server: RunningServer;
  let dir: string;
  let env: Record<string, string>;
  let png: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'solvebox-cli-client-'));
    server = await startServer(
      configWith({
        host: '127.0.0.1',
        port: 0,
        db: join(dir, 'db.sqlite'),
        logLevel: 'silent',
        tokenDeadlineMs: 5000,
        solvers: loadConfig({ solvers: '*=sandbox' }).solvers,
      }),
    );
    const { key } = await createAccount(server.services.storage, { threads: 10, balanceMicros: 2_500_000, proxiesAllowed: true });
    env = { SOLVEBOX_URL: server.url, SOLVEBOX_KEY: key };
    // A real 8×8 PNG (in.php reads image headers), padded: decoders ignore bytes after its end.
    const bytes = Buffer.alloc(300, 7);
    bytes.set(
      Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVR4nGP4jwMwDC0JALoev0Ewkwr8AAAAAElFTkSuQmCC', 'base64'),
    );
    png = join(dir, 'captcha.png');
    writeFileSync(png, bytes);
    for (let i = 1; i <= 9; i++) writeFileSync(join(dir, `cell${i}.png`), Buffer.concat([bytes, Buffer.from([i])]));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('solve, for every type: the answer on stdout', async () => {
    const runs: Array<[string[], RegExp]> = [
      [['solve', 'turnstile', '--sitekey', '1x00000000000000000000AA', '--pageurl', 'https://example.com/'], /^XXXX\.DUMMY\.TOKEN\.XXXX\n$/],
      [['solve', 'image', png, '--numeric', '1', '--min-len', '4', '--max-len', '4'], /^[0-9]{4}\n$/],
      [
        ['solve', 'recaptcha-v2', '--sitekey', '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI', '--pageurl', 'https://example.com/', '--invisible'],
        /^03SANDBOX_\w+\n$/,
      ],
      [
        [
          'solve',
          'recaptcha-v3',
          '--sitekey',
          '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI',
          '--pageurl',
          'https://example.com/',
          '--action',
          'login',
          '--min-score',
          '0.7',
        ],
        /^03SANDBOX_\w+\n$/,
      ],
      [
        ['solve', 'cloudflare-challenge', '--pageurl', 'https://example.com/', '--proxy', 'u:p@203.0.113.1:3128', '--user-agent', 'UA/1'],
        /^\{"token":"SANDBOX_\w+","userAgent":"UA\/1"\}\n$/,
      ],
      [
        ['solve', 'geetest', '--gt', 'f1ab2cdefa3456789012345678901234', '--challenge', 'c0ffee', '--pageurl', 'https://example.com/'],
        /^\{"challenge":"c0ffee","validate":"\w+","seccode":"\w+\|jordan"\}\n$/,
      ],
      [['solve', 'bls', '--instructions', '664', ...Array.from({ length: 9 }, (_, i) => join(dir, `cell${i + 1}.png`))], /^\[[1-9](, [1-9])*\]\n$/],
    ];
    for (const [args, expected] of runs) {
      const run = await cli([...args, ...FAST], env);
      assert.equal(run.status, 0, `${args[1]}: ${run.stderr}`);
      assert.match(run.stdout, expected, args[1]);
    }
  });

  test('solve, for the rest of the v1 method list, over both protocols', async () => {
    const mp3 = join(dir, 'captcha.mp3');
    writeFileSync(mp3, Buffer.concat([Buffer.from('ID3'), Buffer.alloc(400)]));
    const runs: Array<[string[], RegExp]> = [
      [
        ['solve', 'hcaptcha', '--sitekey', '10000000-ffff-ffff-ffff-000000000001', '--pageurl', 'https://example.com/'],
        /^10000000-aaaa-bbbb-cccc-000000000001\n$/,
      ],
      [['solve', 'funcaptcha', '--publickey', '69A21A01-CC7B', '--pageurl', 'https://example.com/', '--data', 'blob=abc'], /\|r=eu-west-1\|/],
      [['solve', 'geetest-v4', '--captcha-id', 'e392e1d7fd421dc63325744d5a2b9c73', '--pageurl', 'https://example.com/'], /"pass_token":"\w+"/],
      [['solve', 'widget', '--method', 'tencent', '--pageurl', 'https://example.com/', '--param', 'app_id=190014885'], /"appid":"190014885"/],
      [['solve', 'widget', '--method', 'mt_captcha', '--pageurl', 'https://example.com/', '--param', 'sitekey=MTPublic-x'], /^SANDBOX_\w+\n$/],
      [['solve', 'grid', png, '--instructions', 'cars', '--rows', '3', '--columns', '3'], /^\[[1-9](, ?[1-9])*\]\n$/],
      [['solve', 'coordinates', png, '--instructions', 'the ghost'], /"x":\d+,"y":\d+/],
      [['solve', 'rotate', png, '--angle', '30'], /^(0|[1-9][0-9]*)\n$/],
      [['solve', 'text', 'What colour is the sky? sandbox=answer:blue'], /^blue\n$/],
      [['solve', 'audio', mp3, '--lang', 'en'], /^[0-9]{6}\n$/],
    ];
    for (const protocol of ['v1', 'v2']) {
      for (const [args, expected] of runs) {
        const run = await cli([...args, '--protocol', protocol, ...FAST], env);
        assert.equal(run.status, 0, `${args[1]} (${protocol}): ${run.stderr}`);
        assert.match(run.stdout, expected, `${args[1]} (${protocol})`);
      }
    }
    const wrong = await cli(['solve', 'widget', '--method', 'recaptcha', '--pageurl', 'https://example.com/', ...FAST], env);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /--method must be one of hcaptcha/);
  });

  test('--json: the answer with its task id; errors as JSON with their fix', async () => {
    const ok = await cli(['solve', 'turnstile', '--sitekey', '1x00000000000000000000AA', '--pageurl', 'https://example.com/', '--json', ...FAST], env);
    const parsed = JSON.parse(ok.stdout) as { taskId: string; answer: string; type: string; tasks: number };
    assert.match(parsed.taskId, /^[0-9]{16}$/);
    assert.equal(parsed.answer, 'XXXX.DUMMY.TOKEN.XXXX');
    assert.equal(parsed.type, 'turnstile');
    const failed = await cli(['solve', 'turnstile', '--sitekey', 'x', '--pageurl', 'https://example.com/?sandbox=unsolvable', '--json', ...FAST], env);
    assert.equal(failed.status, 4);
    const error = (JSON.parse(failed.stdout) as { error: { code: string; kind: string; taskId: string; fix: string } }).error;
    assert.equal(error.code, 'ERROR_CAPTCHA_UNSOLVABLE');
    assert.equal(error.kind, 'task-failed');
    assert.match(error.taskId, /^[0-9]{16}$/);
    assert.match(error.fix, /fresh task/);
  });

  test('exit codes differ by error class, and messages carry the fix', async () => {
    const badKey = await cli(['balance', ...FAST], { ...env, SOLVEBOX_KEY: 'k'.repeat(32) });
    assert.equal(badKey.status, 3);
    assert.match(badKey.stderr, /^error: ERROR_KEY_DOES_NOT_EXIST \(res\.php\): .*\nfix: Check the key/);
    assert.ok(!badKey.stderr.includes('k'.repeat(32)), 'the key is not echoed');
    const unsolvable = await cli(['solve', 'turnstile', '--sitekey', '2x00000000000000000000AB', '--pageurl', 'https://example.com/', ...FAST], env);
    assert.equal(unsolvable.status, 4);
    const timeout = await cli(['solve', 'turnstile', '--sitekey', 'x', '--pageurl', 'https://example.com/?sandbox=delay:30', '--timeout', '0.3', ...FAST], env);
    assert.equal(timeout.status, 7);
    assert.match(timeout.stderr, /TIMEOUT/);
    const down = await cli(['balance', '--url', 'http://127.0.0.1:1', '--retries', '0', ...FAST], env);
    assert.equal(down.status, 8);
    const usage = await cli(['solve', 'turnstile', '--pageurl', 'https://example.com/'], env);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--sitekey is required/);
    const noKey = await cli(['balance'], { SOLVEBOX_URL: server.url });
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /SOLVEBOX_KEY/);
  });

  test('balance, report and result', async () => {
    assert.deepEqual(await cli(['balance'], env), { status: 0, stdout: '2.5\n', stderr: '' });
    const solved = JSON.parse(
      (await cli(['solve', 'turnstile', '--sitekey', '1x00000000000000000000AA', '--pageurl', 'https://example.com/', '--json', ...FAST], env)).stdout,
    ) as { taskId: string };
    assert.equal((await cli(['result', solved.taskId], env)).stdout, 'XXXX.DUMMY.TOKEN.XXXX\n');
    assert.equal((await cli(['report', solved.taskId, 'good'], env)).stdout, 'OK_REPORT_RECORDED\n');
    const again = await cli(['report', solved.taskId, 'bad'], env);
    assert.equal(again.status, 3);
    assert.match(again.stderr, /ERROR_DUPLICATE_REPORT/);

    // Long enough that the task is still pending when a CLI started on a loaded machine asks.
    const submitted = await fetch(
      `${server.url}/in.php?key=${env.SOLVEBOX_KEY}&method=turnstile&sitekey=x&pageurl=${encodeURIComponent('https://example.com/?sandbox=delay:3')}`,
    );
    const id = (await submitted.text()).slice(3);
    const pending = await cli(['result', id], env);
    assert.equal(pending.status, 10);
    assert.equal(pending.stderr, 'CAPCHA_NOT_READY\n');
    const waited = await cli(['result', id, '--wait', ...FAST], env);
    assert.equal(waited.status, 0);
    assert.match(waited.stdout, /^0\.SANDBOX_/);
  });

  test('flags win over SOLVEBOX_URL and SOLVEBOX_KEY', async () => {
    const run = await cli(['balance', '--url', server.url, '--key', env.SOLVEBOX_KEY!], { SOLVEBOX_URL: 'http://127.0.0.1:1', SOLVEBOX_KEY: 'wrong' });
    assert.equal(run.stdout, '2.5\n');
  });

  test('Ctrl-C stops a solve at once with exit code 130', async () => {
    const started = performance.now();
    // Two seconds is ample for the CLI to start and submit, even on a loaded machine.
    const run = await cli(['solve', 'turnstile', '--sitekey', 'x', '--pageurl', 'https://example.com/?sandbox=delay:30', ...FAST], env, (kill) =>
      setTimeout(() => kill('SIGINT'), 2000),
    );
    assert.equal(run.status, 130);
    assert.ok(performance.now() - started < 7000);
    assert.match(run.stderr, /ABORTED/);
  });
});
