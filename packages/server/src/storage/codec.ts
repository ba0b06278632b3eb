/** JSON encoding of task specs and solutions for stores that hold text; image bytes become base64. */
import type { Proxy, Solution, TaskSpec } from '@solvebox/protocol';

const BYTES_TAG = '$bytes';
const BLOB_TAG = '$blob';

export function encodeJson(value: TaskSpec | Solution | Proxy): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? { [BYTES_TAG]: Buffer.from(v).toString('base64') } : v));
}

export function decodeJson<T extends TaskSpec | Solution | Proxy>(text: string): T {
  return JSON.parse(text, reviveBytes(NO_BLOBS)) as T;
}

const NO_BLOBS: readonly Uint8Array[] = [];

/** JSON.parse's reviver for both encodings: `{"$bytes": base64}` and `{"$blob": n}` (the n-th of `blobs`). */
function reviveBytes(blobs: readonly Uint8Array[]): (key: string, v: unknown) => unknown {
  return (_key, v) => {
    if (v === null || typeof v !== 'object') return v;
    const tagged = v as Record<string, unknown>;
    if (typeof tagged[BYTES_TAG] === 'string') return new Uint8Array(Buffer.from(tagged[BYTES_TAG], 'base64'));
    if (typeof tagged[BLOB_TAG] === 'number') {
      const blob = blobs[tagged[BLOB_TAG]];
      if (blob === undefined) throw new Error('a spec refers to an image that is not stored');
      return blob;
    }
    return v;
  };
}

/**
 * A spec for stores that hold bytes (SQLite): its JSON with each image replaced by
 * `{"$blob": n}`, and the images as they came, packed in one buffer (packBlobs). No base64: an
 * image is stored at its own size and copied once.
 */
export function encodeSpecWithBlobs(spec: TaskSpec): { readonly json: string; readonly blobs: readonly Uint8Array[] } {
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(spec, (_key, v: unknown) => (v instanceof Uint8Array ? { [BLOB_TAG]: blobs.push(v) - 1 } : v));
  return { json, blobs };
}

/** Whether a spec's JSON refers to blobs stored beside it. Spec strings are escaped, so only a tag matches. */
export function hasBlobs(json: string): boolean {
  return json.includes(`"${BLOB_TAG}"`);
}

/** The spec encodeSpecWithBlobs encoded; specs encoded by encodeJson (base64 inside) read as well. */
export function decodeSpecWithBlobs(json: string, blobs: readonly Uint8Array[]): TaskSpec {
  return JSON.parse(json, reviveBytes(blobs)) as TaskSpec;
}

/** Several byte strings in one: each as a 4-byte big-endian length and its bytes. */
export function packBlobs(blobs: readonly Uint8Array[]): Buffer {
  return Buffer.concat(packedParts(blobs));
}

/** What packBlobs joins, not joined: lengths and the blobs themselves, not copied (for a `writev`). */
export function packedParts(blobs: readonly Uint8Array[]): Uint8Array[] {
  return blobs.flatMap((blob) => {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(blob.length, 0);
    return [length, blob];
  });
}

export function unpackBlobs(packed: Uint8Array): Uint8Array[] {
  const view = Buffer.from(packed.buffer, packed.byteOffset, packed.length);
  const blobs: Uint8Array[] = [];
  for (let at = 0; at < view.length; ) {
    const length = view.readUInt32BE(at);
    blobs.push(new Uint8Array(view.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return blobs;
}
