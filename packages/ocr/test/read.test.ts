/**
 * Hints as constraints on the search: each case builds model scores where the unconstrained best
 * reading breaks the hint, and checks that the constrained search finds the reading that fits,
 * which a filter over the best reading could not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_IMAGE_HINTS, type ImageHints } from '@solvebox/protocol';
import { bestPath, constrainedDecode, evaluate, Reader, type FrameScores } from '../src/index.js';

const CHARSET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-*=? ';
const reader = new Reader(CHARSET);

/** Frames from per-frame probabilities by character ('' is the blank); unlisted mass is spread thin. */
function frames(...spec: Record<string, number>[]): FrameScores {
  const classes = CHARSET.length + 1;
  const data = new Float32Array(spec.length * classes);
  spec.forEach((probs, t) => {
    const listed = Object.values(probs).reduce((a, b) => a + b, 0);
    const rest = Math.max(1e-6, 1 - listed) / classes;
    for (let c = 0; c < classes; c++) data[t * classes + c] = Math.log(rest);
    for (const [ch, p] of Object.entries(probs)) {
      const c = ch === '' ? 0 : CHARSET.indexOf(ch) + 1;
      assert.ok(c >= 0, `unknown character ${ch}`);
      data[t * classes + c] = Math.log(p);
    }
  });
  return { data, frames: spec.length, classes };
}

const clear = (text: string): Record<string, number>[] => [...text].flatMap((ch) => [{ [ch]: 0.98 }, { '': 0.98 }]);
const read = (scores: FrameScores, hints: Partial<ImageHints> = {}) => reader.read(scores, { ...NO_IMAGE_HINTS, ...hints });
const text = (labels: readonly number[]): string => labels.map((l) => CHARSET[l - 1]).join('');

test('the best path merges repeats and drops blanks; a clear reading is confident', () => {
  const scores = frames({ a: 0.98 }, { a: 0.98 }, { '': 0.98 }, { a: 0.98 }, { b: 0.98 });
  assert.equal(text(bestPath(scores)), 'aab');
  const answer = read(scores, { caseSensitive: true });
  assert.ok(!('reason' in answer));
  assert.equal(answer.text, 'aab');
  assert.ok(answer.confidence > 0.9, `confidence ${answer.confidence}`);
});

test('numeric=1 reads the digit the model ranked second, where the best path has a letter', () => {
  const scores = frames(...clear('12'), { O: 0.55, '0': 0.4 }, { '': 0.98 }, ...clear('4'));
  assert.equal(text(bestPath(scores)), '12O4');
  assert.equal((read(scores, { numeric: 1, caseSensitive: true }) as { text: string }).text, '1204');
  assert.equal((read(scores, { numeric: 1 }) as { text: string }).text, '1204');
});

test('numeric=2 reads letters only; numeric=3 picks the likelier of all-digits and all-letters', () => {
  const scores = frames(...clear('ab'), { '8': 0.6, B: 0.35 }, { '': 0.98 });
  assert.equal((read(scores, { numeric: 2, caseSensitive: true }) as { text: string }).text, 'abB');
  assert.equal((read(scores, { numeric: 3, caseSensitive: true }) as { text: string }).text, 'abB', 'two letters outweigh one digit');
  const digits = frames(...clear('12'), { b: 0.6, '6': 0.35 }, { '': 0.98 });
  assert.equal((read(digits, { numeric: 3 }) as { text: string }).text, '126');
});

test('numeric=4 requires both a digit and a letter', () => {
  const scores = frames(...clear('abc'), { d: 0.6, '4': 0.35 }, { '': 0.98 });
  assert.equal((read(scores) as { text: string }).text, 'abcd');
  assert.equal((read(scores, { numeric: 4 }) as { text: string }).text, 'abc4');
});

test('max_len and min_len bound the reading', () => {
  const long = frames(...clear('abcd'), { e: 0.55, '': 0.44 });
  assert.equal((read(long) as { text: string }).text, 'abcde');
  assert.equal((read(long, { maxLength: 4 }) as { text: string }).text, 'abcd');
  const short = frames(...clear('abc'), { '': 0.6, x: 0.38 });
  assert.equal((read(short) as { text: string }).text, 'abc');
  assert.equal((read(short, { minLength: 4 }) as { text: string }).text, 'abcx');
  assert.deepEqual(read(short, { minLength: 6 }), { reason: 'no-reading-fits' });
});

test('regsense=0 folds case before the search; regsense=1 keeps the cases apart', () => {
  // c and C split the letter; k alone outscores either case, but not both together.
  const scores = frames(...clear('ab'), { k: 0.36, c: 0.32, C: 0.3 }, { '': 0.98 });
  assert.equal((read(scores, { caseSensitive: true }) as { text: string }).text, 'abk');
  assert.equal((read(scores) as { text: string }).text, 'abc');
});

test('a case-insensitive reading keeps the case the model saw where it agrees', () => {
  const scores = frames(...clear('XyZ'));
  assert.equal((read(scores) as { text: string }).text, 'XyZ');
});

test('phrase=1 requires words separated by a space; without it no space is read', () => {
  const scores = frames(...clear('ab'), { '': 0.55, ' ': 0.44 }, ...clear('cd'));
  assert.equal((read(scores) as { text: string }).text, 'abcd');
  assert.equal((read(scores, { phrase: true }) as { text: string }).text, 'ab cd');
});

test('calc=1 reads an arithmetic expression and answers its result', () => {
  const scores = frames(...clear('12'), { '+': 0.6, t: 0.35 }, { '': 0.98 }, ...clear('30'), { '=': 0.6, '': 0.38 }, { '': 0.98 });
  assert.equal((read(scores) as { text: string }).text, '12t30');
  assert.equal((read(scores, { calc: true }) as { text: string }).text, '42');
  assert.equal(evaluate('7*6'), '42');
  assert.equal(evaluate('7-16=?'), '-9');
  assert.deepEqual(read(frames(...clear('abc')), { calc: true }), { reason: 'no-reading-fits' });
});

test('language=1 (Cyrillic) is beyond the model: no reading', () => {
  assert.deepEqual(read(frames(...clear('abc')), { language: 1 }), { reason: 'unsupported-language' });
});

test('an ambiguous reading has low confidence', () => {
  const scores = frames(...clear('ab'), { c: 0.34, e: 0.33, o: 0.32 }, { '': 0.98 });
  const answer = read(scores, { caseSensitive: true });
  assert.ok(!('reason' in answer));
  assert.ok(answer.confidence < 0.4, `confidence ${answer.confidence}`);
});

test('the search is deterministic', () => {
  const scores = frames(...clear('ab'), { c: 0.34, e: 0.33, o: 0.32 }, { '': 0.98 });
  const first = constrainedDecode(scores, { allowed: [...Array(62).keys()].map((i) => i + 1), minLength: 1, maxLength: 8 });
  for (let i = 0; i < 5; i++)
    assert.deepEqual(constrainedDecode(scores, { allowed: [...Array(62).keys()].map((i) => i + 1), minLength: 1, maxLength: 8 }), first);
});
