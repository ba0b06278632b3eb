/**
 * Image preprocessing: the one path from captcha bytes to model input. Training data is made by
 * this same module (packages/ocr/training imports the built file), so what the model saw in
 * training and what it sees in the server cannot drift apart.
 */
import sharp from 'sharp';

/** The model's input: one grey channel, this many pixels high and wide. */
export const INPUT_HEIGHT = 32;
export const INPUT_WIDTH = 128;

/**
 * Larger images are refused before decoding: captchas are small, and a decompression bomb
 * (a few kB of PNG that claims 50 000 × 50 000 pixels) must not reach the decoder.
 */
export const MAX_INPUT_PIXELS = 4_000_000;
export const MAX_INPUT_SIDE = 4096;

/** How the grey image is prepared. `plain` is what the model is trained on; the others are second looks. */
export type Variant = 'plain' | 'stretched' | 'sharpened';
export const VARIANTS: readonly Variant[] = ['plain', 'stretched', 'sharpened'];

export class ImageError extends Error {
  override readonly name = 'ImageError';
}

// One libvips thread per call: the pool runs one image per worker, and that is faster than
// fanning each tiny image out over threads. No libvips cache: every captcha is different.
sharp.concurrency(1);
sharp.cache(false);

/**
 * Decodes a PNG, JPEG or GIF (the first frame of an animated one), flattens transparency onto
 * white (as a browser shows it on a white page), turns it grey and squeezes it to the model's
 * input size. Deterministic: the same bytes always give the same pixels.
 */
export async function preprocess(image: Uint8Array, variant: Variant = 'plain'): Promise<Uint8Array> {
  let pipeline: sharp.Sharp;
  try {
    pipeline = sharp(image, { pages: 1, limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated', sequentialRead: true });
    const { width, height } = await pipeline.metadata();
    if (!width || !height) throw new ImageError('the image has no dimensions');
    if (width > MAX_INPUT_SIDE || height > MAX_INPUT_SIDE) throw new ImageError(`the image is ${width}×${height}, larger than ${MAX_INPUT_SIDE} on a side`);
  } catch (err) {
    throw asImageError(err);
  }
  pipeline = pipeline.flatten({ background: '#ffffff' }).greyscale();
  if (variant === 'stretched') pipeline = pipeline.normalise();
  if (variant === 'sharpened') pipeline = pipeline.median(3).normalise();
  try {
    const pixels = await pipeline.resize(INPUT_WIDTH, INPUT_HEIGHT, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    if (pixels.length !== INPUT_WIDTH * INPUT_HEIGHT) throw new ImageError(`decoded ${pixels.length} bytes, expected ${INPUT_WIDTH * INPUT_HEIGHT}`);
    return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length);
  } catch (err) {
    throw asImageError(err);
  }
}

function asImageError(err: unknown): ImageError {
  if (err instanceof ImageError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ImageError(`the image cannot be decoded: ${message.split('\n')[0]}`);
}

/**
 * The dimensions an image's header claims, read without decoding the pixels; undefined when the
 * header cannot be read. in.php uses it to refuse oversized images and decompression bombs
 * before they are stored.
 */
export async function imageSize(image: Uint8Array): Promise<{ width: number; height: number } | undefined> {
  try {
    const { width, height } = await sharp(image, { pages: 1, limitInputPixels: false }).metadata();
    return width && height ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}
