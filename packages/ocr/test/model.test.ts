/**
 * The shipped model through the real stack: Node's preprocessing and onnxruntime agree with what
 * PyTorch computed at training time, the worker pool reads the fixtures, and hostile images fail
 * cleanly without hurting the pool.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { ImageRejected, PoolError, Recognizer, RecognizerPool, loadModelInfo, preprocess } from '../src/index.js';
import { ownBytes } from '../src/pool.js';
import { FIXTURE_DIR, fixtures, hintsFor, pngBomb, truncated } from './fixtures.js';

interface Parity {
  readonly file: string;
  readonly pixelsSha256: string;
  readonly classes: number[];
  readonly logprobs: number[];
  readonly greedy: string;
}

describe('parity with PyTorch', () => {
  test('preprocessing gives the same pixels and onnxruntime the same scores as at training time', async () => {
    const parity = JSON.parse(readFileSync(`${FIXTURE_DIR}parity.json`, 'utf8')) as Parity[];
    const recognizer = await Recognizer.create(loadModelInfo());
    try {
      assert.equal(parity.length, fixtures().length);
      for (const expected of parity) {
        const pixels = await preprocess(readFileSync(FIXTURE_DIR + expected.file));
        assert.equal(createHash('sha256').update(pixels).digest('hex'), expected.pixelsSha256, `${expected.file}: preprocessing drifted`);
        const scores = await recognizer.scores(pixels);
        assert.equal(scores.frames, expected.classes.length);
        for (let t = 0; t < scores.frames; t++) {
          const row = scores.data.subarray(t * scores.classes, (t + 1) * scores.classes);
          const best = row.indexOf(Math.max(...row));
          assert.equal(best, expected.classes[t], `${expected.file} column ${t}`);
          assert.ok(Math.abs(row[best]! - expected.logprobs[t]!) < 1e-3, `${expected.file} column ${t}: ${row[best]} vs ${expected.logprobs[t]}`);
        }
      }
    } finally {
      await recognizer.close();
    }
  });
});

describe('the worker pool', () => {
  let pool: RecognizerPool;
  before(async () => {
    pool = await RecognizerPool.start({ size: 2 });
  });
  after(() => pool.close());

  test('reads every fixture, from every training source', async () => {
    const results = await Promise.all(fixtures().map(async (f) => ({ f, r: await pool.recognize(f.image, hintsFor(f.caseSensitive)) })));
    for (const { f, r } of results) {
      assert.ok('text' in r, `${f.file}: ${JSON.stringify(r)}`);
      const got = f.caseSensitive ? r.text : r.text.toLowerCase();
      assert.equal(got, f.caseSensitive ? f.answer : f.answer.toLowerCase(), f.file);
      assert.ok(r.confidence > 0 && r.confidence <= 1);
    }
  });

  test('an image that is a view into a large buffer is sent as its own bytes, and read', async () => {
    const f = fixtures()[0]!;
    // As a benchmark or a request parser holds images: views into one large Buffer.
    const blob = Buffer.concat([Buffer.alloc(4 << 20), f.image, Buffer.alloc(4 << 20)]);
    const view = blob.subarray(4 << 20, (4 << 20) + f.image.length);
    const own = ownBytes(view);
    assert.equal(own.buffer.byteLength, f.image.length, 'the neighbours of the view would be copied to the worker');
    assert.deepEqual(Buffer.from(own), f.image);
    const whole = new Uint8Array(f.image);
    assert.equal(ownBytes(whole), whole, 'an image that owns its buffer is not copied');
    const r = await pool.recognize(view, hintsFor(f.caseSensitive));
    assert.ok('text' in r && r.text === f.answer, JSON.stringify(r));
  });

  test('an animated GIF is read by its first frame', async () => {
    const f = fixtures().find((x) => x.source === 'svg-captcha-easy')!;
    const { width, height } = await sharp(f.image).metadata();
    const blankFrame = await sharp({ create: { width: width!, height: height!, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const animated = await sharp([f.image, blankFrame], { join: { animated: true } })
      .gif({ loop: 0, delay: [500, 500] })
      .toBuffer();
    assert.equal((await sharp(animated).metadata()).pages, 2);
    const r = await pool.recognize(animated, hintsFor(true));
    assert.ok('text' in r && r.text === f.answer, JSON.stringify(r));
  });

  test('hostile images fail cleanly and the pool reads on', async () => {
    const good = fixtures()[0]!;
    const bad = [
      Buffer.alloc(0),
      Buffer.from('not an image at all'),
      truncated(good.image),
      pngBomb(30_000, 30_000),
      pngBomb(5000, 1),
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]),
    ];
    const outcomes = await Promise.allSettled(bad.map((image) => pool.recognize(image, hintsFor(false))));
    for (const [i, outcome] of outcomes.entries()) {
      assert.equal(outcome.status, 'rejected', `bad image ${i} was read`);
      assert.ok(outcome.reason instanceof ImageRejected, `bad image ${i}: ${outcome.reason}`);
    }
    const after = await pool.recognize(good.image, hintsFor(good.caseSensitive));
    assert.ok('text' in after && after.text === good.answer);
  });

  test('an aborted task leaves the queue at once, and the tasks ahead of it are still read', async () => {
    const f = fixtures()[0]!;
    const controller = new AbortController();
    const flood = Array.from({ length: 20 }, () => pool.recognize(f.image, hintsFor(true)));
    const aborted = pool.recognize(f.image, hintsFor(true), controller.signal);
    controller.abort(new Error('gave up'));
    await assert.rejects(aborted, /gave up/);
    for (const r of await Promise.all(flood)) assert.ok('text' in r && r.text === f.answer);
  });
});

test('a worker that overruns its time is replaced, and only its image fails', async () => {
  const pool = await RecognizerPool.start({ size: 1, jobTimeoutMs: 1 });
  try {
    const f = fixtures()[0]!;
    await assert.rejects(pool.recognize(f.image, hintsFor(true)), PoolError);
    assert.equal(pool.size, 1);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.recognize(fixtures()[0]!.image, hintsFor(true)), /closed/);
});
