/**
 * Image checks shared by `post`, `base64` and `bls`: base64 decoding with the tolerances real
 * clients need, size limits, file extension and magic bytes.
 */
import type { ImageFormat } from '../tasks.js';
import type { Failure } from './result.js';
import { fail } from './result.js';

export interface ImageLimits {
  /** Fewer bytes than this answer ERROR_ZERO_CAPTCHA_FILESIZE. @defaultValue 100 */
  readonly minBytes: number;
  /** More bytes than this answer ERROR_TOO_BIG_CAPTCHA_FILESIZE. @defaultValue 102400 */
  readonly maxBytes: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { minBytes: 100, maxBytes: 100 * 1024 };

export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'gif'] as const;

/** Decodes standard base64 to bytes; the server passes a faster native decoder. */
export type Base64Decoder = (base64: string) => Uint8Array;

export const decodeBase64WithAtob: Base64Decoder = (base64) => {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
};

const DATA_URI_PREFIX = /^data:[^,]{0,100};base64,/i;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes base64 image text, or returns undefined when it is not valid base64.
 * Tolerated: a `data:...;base64,` prefix, line breaks and tabs, the URL-safe alphabet, missing
 * padding, and spaces where a client forgot to URL-encode `+` in a form body.
 */
export function decodeImageBase64(text: string, decode: Base64Decoder = decodeBase64WithAtob): Uint8Array | undefined {
  let b64 = text.trim().replace(DATA_URI_PREFIX, '');
  b64 = b64
    .replace(/[\r\n\t]/g, '')
    .replace(/ /g, '+')
    .replace(/-/g, '+')
    .replace(/_/g, '/');
  if (!BASE64_BODY.test(b64)) return undefined;
  const unpadded = b64.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (unpadded.length === 0) return new Uint8Array(0);
  const padded = unpadded + '='.repeat((4 - (unpadded.length % 4)) % 4);
  try {
    return decode(padded);
  } catch {
    return undefined;
  }
}

/** The image format from its first bytes, or undefined when it is not JPEG, PNG or GIF. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (
    bytes.length >= 8 &&
    bytes[0] === 0x89 &&
    bytes[1] === 0x50 &&
    bytes[2] === 0x4e &&
    bytes[3] === 0x47 &&
    bytes[4] === 0x0d &&
    bytes[5] === 0x0a &&
    bytes[6] === 0x1a &&
    bytes[7] === 0x0a
  ) {
    return 'png';
  }
  if (bytes.length >= 6) {
    const signature = String.fromCharCode(...bytes.subarray(0, 6));
    if (signature === 'GIF87a' || signature === 'GIF89a') return 'gif';
  }
  return undefined;
}

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? '' : filename.slice(dot + 1).toLowerCase();
}

/**
 * Checks decoded image bytes in the documented order: size floor, size ceiling, the upload's file
 * extension (only when a filename was sent), then the magic bytes.
 */
export function checkImage(bytes: Uint8Array, limits: ImageLimits, filename?: string, what = 'the image'): { ok: true; format: ImageFormat } | Failure {
  if (bytes.length < limits.minBytes) {
    return fail('ERROR_ZERO_CAPTCHA_FILESIZE', `${what} has ${bytes.length} bytes; the minimum is ${limits.minBytes}`);
  }
  if (bytes.length > limits.maxBytes) {
    return fail('ERROR_TOO_BIG_CAPTCHA_FILESIZE', `${what} has ${bytes.length} bytes; the maximum is ${limits.maxBytes}`);
  }
  if (filename !== undefined && filename !== '' && !(IMAGE_EXTENSIONS as readonly string[]).includes(extensionOf(filename))) {
    return fail('ERROR_WRONG_FILE_EXTENSION', `the file extension must be one of ${IMAGE_EXTENSIONS.join(', ')}`);
  }
  const format = sniffImageFormat(bytes);
  if (format === undefined) return fail('ERROR_IMAGE_TYPE_NOT_SUPPORTED', `${what} is not a JPEG, PNG or GIF`);
  return { ok: true, format };
}

/** Decodes and checks one base64 image; `ERROR_UPLOAD` when the text is not base64. */
export function imageFromBase64(
  text: string,
  limits: ImageLimits,
  decode: Base64Decoder | undefined,
  what: string,
): { ok: true; bytes: Uint8Array; format: ImageFormat } | Failure {
  const bytes = decodeImageBase64(text, decode);
  if (bytes === undefined) return fail('ERROR_UPLOAD', `${what} is not valid base64`);
  const checked = checkImage(bytes, limits, undefined, what);
  return checked.ok ? { ok: true, bytes, format: checked.format } : checked;
}
