/**
 * Image preprocessing: the one path from captcha bytes to model input. Training data is made by
 * this same module (packages/ocr/training imports the built file), so what the model saw in
 * training and what it sees in the server cannot drift apart.
 */
import sharp from 'sharp';

/** The model's input: one grey channel, this many pixels high and wide. */
export const INPUT_HEIGHT = 48;
export const INPUT_WIDTH = 192;

/**
 * Larger images are refused before decoding: captchas are small, and a decompression bomb
 * (a few kB of PNG that claims 50 000 × 50 000 pixels) must not reach the decoder.
 */
export const MAX_INPUT_PIXELS = 4_000_000;
export const MAX_INPUT_SIDE = 4096;

/**
 * How the image is prepared. `plain` is what the model is trained on; the others are second looks
 * for a reading the model doubts (see secondLook).
 */
export type Variant = 'plain' | 'denoised' | 'cropped';
export const SECOND_LOOKS = ['denoised', 'cropped'] as const satisfies readonly Variant[];

export class ImageError extends Error {
  override readonly name = 'ImageError';
}

// One libvips thread per call: the pool runs one image per worker, and that is faster than
// fanning each tiny image out over threads. No libvips cache: every captcha is different.
sharp.concurrency(1);
sharp.cache(false);

/**
 * Decodes a PNG, JPEG or GIF (the first frame of an animated one), flattens transparency onto
 * white (as a browser shows it on a white page), squeezes it to the model's input size, and turns
 * it into ink on paper (see inkOnPaper). Deterministic: the same bytes always give the same pixels.
 * This is the `plain` path the model is trained on: one pipeline, so libvips can shrink a JPEG
 * while decoding it.
 */
export async function preprocess(image: Uint8Array): Promise<Uint8Array> {
  const { pipeline } = await open(image);
  return toModelInput(pipeline);
}

/** An image decoded once for second looks: flattened RGB at its own size. */
export interface Decoded {
  readonly rgb: Buffer;
  readonly width: number;
  readonly height: number;
}

export async function decode(image: Uint8Array): Promise<Decoded> {
  const { pipeline } = await open(image);
  try {
    const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { rgb: data, width: info.width, height: info.height };
  } catch (err) {
    throw asImageError(err);
  }
}

/** A second look at a decoded image: salt noise filtered out, or the outer margin cut away. */
export function secondLook(decoded: Decoded, variant: Exclude<Variant, 'plain'>): Promise<Uint8Array> {
  const { rgb, width, height } = decoded;
  let pipeline = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (variant === 'denoised') pipeline = pipeline.median(3);
  if (variant === 'cropped' && width >= 20 && height >= 20) {
    const dx = Math.round(width * 0.04);
    const dy = Math.round(height * 0.06);
    pipeline = pipeline.extract({ left: dx, top: dy, width: width - 2 * dx, height: height - 2 * dy });
  }
  return toModelInput(pipeline);
}

/** Reads the header, refuses what is too large, and flattens transparency onto white. */
async function open(image: Uint8Array): Promise<{ pipeline: sharp.Sharp }> {
  let width: number;
  let height: number;
  let pipeline: sharp.Sharp;
  try {
    // ignoreIcc: converting through an embedded colour profile tripled the cost of a 400×250 JPEG
    // (7 ms against 2.5), and the grey we compute (distance from the background) needs no
    // calibrated colour.
    pipeline = sharp(image, { pages: 1, limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated', ignoreIcc: true });
    ({ width = 0, height = 0 } = await pipeline.metadata());
  } catch (err) {
    throw asImageError(err);
  }
  if (!width || !height) throw new ImageError('the image has no dimensions');
  if (width > MAX_INPUT_SIDE || height > MAX_INPUT_SIDE) throw new ImageError(`the image is ${width}×${height}, larger than ${MAX_INPUT_SIDE} on a side`);
  return { pipeline: pipeline.flatten({ background: '#ffffff' }) };
}

async function toModelInput(pipeline: sharp.Sharp): Promise<Uint8Array> {
  try {
    const { data, info } = await pipeline
      .resize(INPUT_WIDTH, INPUT_HEIGHT, { fit: 'fill', kernel: 'linear' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== INPUT_WIDTH || info.height !== INPUT_HEIGHT) throw new ImageError(`resized to ${info.width}×${info.height}`);
    return inkOnPaper(data, info.channels);
  } catch (err) {
    throw asImageError(err);
  }
}

/** The indices of the input's border pixels: the top and bottom rows, the left and right columns. */
const BORDER: readonly number[] = (() => {
  const border: number[] = [];
  for (let x = 0; x < INPUT_WIDTH; x++) border.push(x, (INPUT_HEIGHT - 1) * INPUT_WIDTH + x);
  for (let y = 1; y < INPUT_HEIGHT - 1; y++) border.push(y * INPUT_WIDTH, y * INPUT_WIDTH + INPUT_WIDTH - 1);
  return border;
})();

/**
 * Grey by colour distance from the background, not by brightness: coloured letters on a
 * background of the same brightness (common in colour captchas) stay visible, and light text on
 * dark reads like dark text on light. The background colour is the median of the border pixels;
 * distances are stretched so the strongest ink is black, whatever its contrast.
 */
export function inkOnPaper(rgb: Uint8Array, channels: number): Uint8Array {
  const pixels = INPUT_WIDTH * INPUT_HEIGHT;
  const used = Math.min(channels, 3);
  const background: number[] = [];
  for (let c = 0; c < used; c++) background.push(median(BORDER.map((i) => rgb[i * channels + c]!)));
  const distance = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let sum = 0;
    for (let c = 0; c < used; c++) {
      const d = rgb[i * channels + c]! - background[c]!;
      sum += d * d;
    }
    distance[i] = Math.sqrt(sum / used);
  }
  // The 99th percentile, not the maximum, sets full black: a few stray dots must not decide it.
  const full = Math.max(kthSmallest(Float32Array.from(distance), Math.floor(pixels * 0.99)), 24);
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) out[i] = 255 - Math.min(255, Math.round((distance[i]! * 255) / full));
  return out;
}

function median(values: number[]): number {
  return Uint8Array.from(values).sort()[values.length >> 1]!;
}

/**
 * The k-th smallest value (0-based), as a full sort would put at index k, found by quickselect in
 * linear time: a sort of the 9216 distances took most of inkOnPaper's millisecond. Reorders `values`.
 */
function kthSmallest(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

function asImageError(err: unknown): ImageError {
  if (err instanceof ImageError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ImageError(`the image cannot be decoded: ${message.split('\n')[0]}`);
}
