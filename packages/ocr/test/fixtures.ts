/** The committed fixture captchas (test/fixtures, written by training/fixtures.mjs) and hostile images. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { NO_IMAGE_HINTS, type ImageHints } from '@solvebox/protocol';

/** Compiled tests run from dist/test; the fixtures stay in the source tree. */
export const FIXTURE_DIR = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

export interface Fixture {
  readonly file: string;
  readonly source: string;
  readonly answer: string;
  readonly caseSensitive: boolean;
  readonly image: Buffer;
}

export function fixtures(): Fixture[] {
  const list = JSON.parse(readFileSync(`${FIXTURE_DIR}fixtures.json`, 'utf8')) as Omit<Fixture, 'image'>[];
  return list.map((f) => ({ ...f, image: readFileSync(FIXTURE_DIR + f.file) }));
}

export const hintsFor = (caseSensitive: boolean): ImageHints => ({ ...NO_IMAGE_HINTS, caseSensitive });

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG of `width` × `height` black 1-bit pixels: a few kB that decode to hundreds of megapixels. */
export function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const row = Buffer.alloc(1 + Math.ceil(width / 8));
  const rows = Buffer.alloc(row.length * Math.min(height, 64));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)), // only the first rows: the decoder must give up long before the end
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The first half of an image: a header that reads, pixels that do not. */
export function truncated(image: Buffer): Buffer {
  return image.subarray(0, Math.floor(image.length / 2));
}
