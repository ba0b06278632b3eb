/** Preprocessing: colour distance from the background, whatever the colours and polarity. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INPUT_HEIGHT, INPUT_WIDTH, inkOnPaper, preprocess } from '../src/preprocess.js';
import { fixtures } from './fixtures.js';

/** An RGB image of the model's size: `background` with a block of `ink` in the middle. */
function block(background: [number, number, number], ink: [number, number, number]): Uint8Array {
  const rgb = new Uint8Array(INPUT_WIDTH * INPUT_HEIGHT * 3);
  for (let y = 0; y < INPUT_HEIGHT; y++) {
    for (let x = 0; x < INPUT_WIDTH; x++) {
      const inside = x >= 40 && x < 80 && y >= 10 && y < 22;
      rgb.set(inside ? ink : background, (y * INPUT_WIDTH + x) * 3);
    }
  }
  return rgb;
}

const at = (grey: Uint8Array, x: number, y: number): number => grey[y * INPUT_WIDTH + x]!;

test('ink of the same brightness as its background still comes out black on white', () => {
  // Luminance: red (255,0,0) ≈ 76 and green (0,130,0) ≈ 76: a grey conversion would erase the text.
  const grey = inkOnPaper(block([0, 130, 0], [255, 0, 0]), 3);
  assert.equal(at(grey, 5, 5), 255);
  assert.equal(at(grey, 60, 16), 0);
});

test('light text on a dark background reads like dark text on a light one', () => {
  const dark = inkOnPaper(block([10, 10, 10], [240, 240, 240]), 3);
  const light = inkOnPaper(block([240, 240, 240], [10, 10, 10]), 3);
  assert.deepEqual(dark, light);
});

test('faint text is stretched to full contrast; a blank image stays blank', () => {
  const faint = inkOnPaper(block([200, 200, 200], [160, 160, 160]), 3);
  assert.ok(at(faint, 60, 16) < 10, `faint ink became ${at(faint, 60, 16)}`);
  const blank = inkOnPaper(block([200, 200, 200], [200, 200, 200]), 3);
  assert.ok(blank.every((v) => v === 255));
});

test('the same bytes always give the same pixels, for every fixture format', async () => {
  for (const f of fixtures()) {
    const [a, b] = await Promise.all([preprocess(f.image), preprocess(f.image)]);
    assert.equal(a.length, INPUT_WIDTH * INPUT_HEIGHT);
    assert.deepEqual(a, b, f.file);
  }
});
