/** Image inputs: bytes, buffers, Blobs, or (in Node) a file path. */

export type ImageInput = Uint8Array | ArrayBuffer | Blob | string;

export async function toBytes(image: ImageInput): Promise<Uint8Array> {
  if (image instanceof Uint8Array) return image;
  if (image instanceof ArrayBuffer) return new Uint8Array(image);
  if (typeof Blob !== 'undefined' && image instanceof Blob) return new Uint8Array(await image.arrayBuffer());
  if (typeof image === 'string') {
    // A path: Node only. The specifier is a variable so that browser bundlers leave it alone.
    const fs = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ fs)) as { readFile(path: string): Promise<Uint8Array> };
    return new Uint8Array(await readFile(image));
  }
  throw new TypeError('an image must be a Uint8Array, an ArrayBuffer, a Blob, or a file path');
}

/** Base64 with btoa, which browsers and Node both have. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}
