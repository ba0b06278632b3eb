/** Preprocessing: colour distance from the background, whatever the colours and polarity. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decode, INPUT_HEIGHT, INPUT_WIDTH, inkOnPaper, preprocess, secondLook } from '../src/preprocess.js';
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

test('full black is set by the 99th percentile of ink, so a few stray dots do not decide it', () => {
  // White page; a text block (5 % of the pixels) 100 grey levels from it; 20 black dots (0.2 %);
  // one pixel half as far from the page as the text.
  const rgb = block([255, 255, 255], [155, 155, 155]);
  for (let i = 0; i < 20; i++) rgb.fill(0, (200 + i * 400) * 3, (200 + i * 400 + 1) * 3);
  rgb.fill(205, (30 * INPUT_WIDTH + 150) * 3, (30 * INPUT_WIDTH + 151) * 3);
  const grey = inkOnPaper(rgb, 3);
  assert.equal(at(grey, 60, 16), 0, 'the text is black, not the grey a stretch to the dots would give');
  assert.equal(at(grey, 150, 30), 127, "half the text's distance is mid grey: 255 - round(50 * 255 / 100)");
  assert.equal(grey[200], 0);
});

test('the same bytes always give the same pixels, for every fixture format', async () => {
  for (const f of fixtures()) {
    const [a, b] = await Promise.all([preprocess(f.image), preprocess(f.image)]);
    assert.equal(a.length, INPUT_WIDTH * INPUT_HEIGHT);
    assert.deepEqual(a, b, f.file);
  }
});

test('second looks see the same image differently: the margin cut away, or salt noise filtered out', async () => {
  // A dark frame around a white image: the plain look sees the frame, the cropped one does not.
  const width = 200;
  const height = 50;
  const rgb = Buffer.alloc(width * height * 3, 255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < 4 || y < 2 || x >= width - 4 || y >= height - 2) rgb.fill(0, (y * width + x) * 3, (y * width + x + 1) * 3);
      // A few salt dots in the middle, which the median filter removes.
      if (y === 25 && x % 40 === 20) rgb.fill(0, (y * width + x) * 3, (y * width + x + 1) * 3);
    }
  }
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  const decoded = await decode(png);
  assert.deepEqual([decoded.width, decoded.height], [width, height]);
  const [plain, cropped, denoised] = await Promise.all([preprocess(png), secondLook(decoded, 'cropped'), secondLook(decoded, 'denoised')]);
  for (const grey of [plain, cropped, denoised]) assert.equal(grey.length, INPUT_WIDTH * INPUT_HEIGHT);
  // The frame is the background (the border's median colour) for the plain look, so the white
  // inside is ink; cut away, white is the background and the page is blank but for the dots.
  assert.ok(at(plain, 64, 10) < 128, `plain: ${at(plain, 64, 10)}`);
  assert.equal(at(cropped, 64, 10), 255);
  // In the plain look the dots are gaps in the "ink"; the median filter closes them.
  const gaps = (grey: Uint8Array): number => {
    let n = 0;
    for (let y = 4; y < INPUT_HEIGHT - 4; y++) for (let x = 6; x < INPUT_WIDTH - 6; x++) if (at(grey, x, y) > 64) n++;
    return n;
  };
  assert.ok(gaps(plain) > 0, 'the plain look should show the dots');
  assert.equal(gaps(denoised), 0);
});
