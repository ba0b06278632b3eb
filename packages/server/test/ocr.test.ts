/**
 * Image captchas solved for real: the OCR backend behind in.php / res.php, with the shipped model,
 * on the committed fixture images; hostile images; declined readings and fallbacks; per-solver
 * statistics from reports.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, crc32 } from 'node:zlib';
import { loadConfig } from '../src/index.js';
import { OperatorSession } from './console-helpers.js';
import { b64, getQuery, postForm, postMultipart, startTestServer, submitOk, tempDir, waitForResult, type TestServer } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../../../ocr/test/fixtures/', import.meta.url));
const fixtures = (JSON.parse(readFileSync(`${FIXTURES}fixtures.json`, 'utf8')) as { file: string; answer: string; caseSensitive: boolean }[]).map((f) => ({
  ...f,
  image: readFileSync(FIXTURES + f.file),
}));

const OCR = loadConfig({ solvers: '*=sandbox,image=ocr' }).solvers;

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, crc]);
}

/** A 2 kB PNG whose header claims 40 000 × 40 000 pixels. */
function decompressionBomb(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(40_000, 0);
  header.writeUInt32BE(40_000, 4);
  header[8] = 1;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(5001 * 16))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A blank white image: nothing to read. */
function blank(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(120, 0);
  header.writeUInt32BE(40, 4);
  header[8] = 8;
  const rows = Buffer.alloc(40 * 121, 255);
  for (let y = 0; y < 40; y++) rows[y * 121] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('OCR behind in.php / res.php', () => {
  let server: TestServer;
  /** The server with a key that has a thread for every fixture. */
  let t: { url: string; key: string; server: TestServer['server'] };
  before(async () => {
    server = await startTestServer({ solvers: OCR, ocrWorkers: 2 });
    t = { url: server.url, key: await server.newKey({ threads: 50 }), server: server.server };
  });
  after(() => server.close());

  test('fixture images posted as multipart files and as base64 are answered with their text', async () => {
    const ids = await Promise.all(
      fixtures.map(async (f, i) => {
        const params = { key: t.key, regsense: f.caseSensitive ? 1 : 0 };
        const res =
          i % 2 === 0
            ? await postMultipart(t.url, '/in.php', { ...params, method: 'post' }, { file: { filename: f.file, data: f.image } })
            : await postForm(t.url, '/in.php', { ...params, method: 'base64', body: b64(f.image) });
        assert.match(res.body, /^OK\|\d+$/, f.file);
        return res.body.slice(3);
      }),
    );
    for (const [i, f] of fixtures.entries()) {
      const answer = await waitForResult(t, ids[i]!);
      assert.ok(answer.startsWith('OK|'), `${f.file}: ${answer}`);
      const text = answer.slice(3);
      assert.equal(f.caseSensitive ? text : text.toLowerCase(), f.caseSensitive ? f.answer : f.answer.toLowerCase(), f.file);
    }
  });

  test('numeric=1 answers digits only', async () => {
    const digits = fixtures.find((f) => /^\d+$/.test(f.answer))!;
    const id = await submitOk(t, { method: 'base64', body: b64(digits.image), numeric: 1 });
    assert.equal(await waitForResult(t, id), `OK|${digits.answer}`);
  });

  test('hostile images: refused by in.php when the header shows it, unsolvable when only decoding does', async () => {
    const bomb = await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(decompressionBomb()) });
    assert.match(bomb.body, /^ERROR_TOO_BIG_CAPTCHA_FILESIZE/);
    const garbage = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 9)]);
    assert.match((await postForm(t.url, '/in.php', { key: t.key, method: 'base64', body: b64(garbage) })).body, /^ERROR_IMAGE_TYPE_NOT_SUPPORTED/);
    const whole = fixtures.find((f) => f.file.endsWith('.png'))!.image;
    const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
    const id = await submitOk(t, { method: 'base64', body: b64(cut) });
    assert.equal(await waitForResult(t, id), 'ERROR_CAPTCHA_UNSOLVABLE');
    // The pool is unharmed.
    const f = fixtures[0]!;
    const next = await submitOk(t, { method: 'base64', body: b64(f.image), regsense: 1 });
    assert.equal(await waitForResult(t, next), `OK|${f.answer}`);
  });

  test('a reading the model doubts is not answered: ERROR_CAPTCHA_UNSOLVABLE without a fallback', async () => {
    const id = await submitOk(t, { method: 'base64', body: b64(blank()) });
    assert.equal(await waitForResult(t, id), 'ERROR_CAPTCHA_UNSOLVABLE');
    const cyrillic = await submitOk(t, { method: 'base64', body: b64(fixtures[0]!.image), language: 1 });
    assert.equal(await waitForResult(t, cyrillic), 'ERROR_CAPTCHA_UNSOLVABLE');
  });

  test('reportgood and reportbad are counted for the solver that answered', async () => {
    const earlier = (await t.server.services.storage.solverStats()).find((s) => s.solver === 'ocr');
    const f = fixtures[1]!;
    const good = await submitOk(t, { method: 'base64', body: b64(f.image) });
    const bad = await submitOk(t, { method: 'base64', body: b64(fixtures[2]!.image) });
    await waitForResult(t, good);
    await waitForResult(t, bad);
    assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'reportgood', id: good })).body, 'OK_REPORT_RECORDED');
    assert.equal((await getQuery(t.url, '/res.php', { key: t.key, action: 'reportbad', id: bad })).body, 'OK_REPORT_RECORDED');
    const stats = (await t.server.services.storage.solverStats()).find((s) => s.solver === 'ocr');
    assert.ok(stats);
    assert.equal(stats.reportedGood - (earlier?.reportedGood ?? 0), 1);
    assert.equal(stats.reportedBad - (earlier?.reportedBad ?? 0), 1);
    assert.ok(stats.solved >= 2 && stats.failed >= 1, JSON.stringify(stats));
  });
});

test('a declined reading goes to the fallback solver when one is configured', async () => {
  const t = await startTestServer({ solvers: OCR, fallbacks: loadConfig({ fallbacks: 'image=sandbox' }).fallbacks, ocrWorkers: 1 });
  try {
    const id = await submitOk(t, { method: 'base64', body: b64(blank()), textinstructions: 'sandbox=answer:HUMAN' });
    assert.equal(await waitForResult(t, id), 'OK|HUMAN');
    const stats = await t.server.services.storage.solverStats();
    assert.deepEqual(
      stats.map((s) => [s.solver, s.solved, s.failed, s.declined]),
      [
        ['ocr', 0, 0, 1],
        ['sandbox', 1, 0, 0],
      ],
    );
  } finally {
    await t.close();
  }
});

describe('an OCR model of its own (--ocr-model), reloaded while it works', () => {
  test('an admin reloads it from the console mid-load: every task is answered, a broken model leaves the old one serving', async () => {
    const dir = tempDir();
    const modelDir = join(dir, 'model');
    cpSync(fileURLToPath(new URL('../../../ocr/model/', import.meta.url)), modelDir, { recursive: true });
    // One attempt per task: a read lost in the switch would end its task, not be retried.
    const server = await startTestServer({ solvers: OCR, ocrWorkers: 1, ocrModel: modelDir, console: true, consolePort: 0, solverAttempts: 1 });
    try {
      const t = { url: server.url, key: await server.newKey({ threads: 100 }) };
      const admin = await OperatorSession.create(server.server.consoleUrl as string, server.server.services.storage, 'root', 'admin');
      const before = await admin.json<{ ocrModel: { dir: string; loadedAt: number } }>('/api/admin/overview');
      assert.equal(before.ocrModel.dir, modelDir);

      const batch = () => Promise.all(fixtures.map((f) => submitOk(t, { method: 'base64', body: b64(f.image), regsense: f.caseSensitive ? 1 : 0 })));
      const ids = [...(await batch()), ...(await batch())];
      const reloaded = await admin.post('/api/admin/ocr/reload');
      assert.equal(reloaded.status, 200);
      ids.push(...(await batch()));
      const answers = await Promise.all(ids.map((id) => waitForResult(t, id, {}, 60_000)));
      const expected = [...fixtures, ...fixtures, ...fixtures].map((f) => `OK|${f.answer}`);
      assert.equal(answers.filter((a, i) => a === expected[i]).length, ids.length, 'no task was dropped or misread across the reload');
      const after = await admin.json<{ ocrModel: { loadedAt: number } }>('/api/admin/overview');
      assert.ok(after.ocrModel.loadedAt > before.ocrModel.loadedAt);

      writeFileSync(join(modelDir, 'ocr.onnx'), 'not a model');
      const broken = await admin.post('/api/admin/ocr/reload');
      assert.equal(broken.status, 422);
      const still = await submitOk(t, { method: 'base64', body: b64(fixtures[0]!.image), regsense: fixtures[0]!.caseSensitive ? 1 : 0 });
      assert.equal(await waitForResult(t, still, {}, 20_000), `OK|${fixtures[0]!.answer}`, 'the previous model still reads');
      const audit = await admin.json<{ action: string }[]>('/api/admin/audit');
      assert.deepEqual(
        audit.map((e) => e.action),
        ['ocr.reload'],
      );
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
