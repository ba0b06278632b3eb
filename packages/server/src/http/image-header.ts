/**
 * The dimensions an image's header claims, read without decoding the pixels; undefined when the
 * header cannot be read. in.php uses it to refuse oversized images and decompression bombs before
 * they are stored. A header parser (image-size), not a decoder: on every image submit, sharp's
 * metadata call cost about 120 µs and a trip through the thread pool, the parser a few µs; and the
 * API path needs no image library loaded at all.
 */
import { imageSize as readImageSize } from 'image-size';

export function imageSize(image: Uint8Array): { width: number; height: number } | undefined {
  try {
    const { width, height } = readImageSize(image);
    return width && height ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}
