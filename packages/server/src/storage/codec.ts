/** JSON encoding of task specs and solutions for stores that hold text; image bytes become base64. */
import type { Proxy, Solution, TaskSpec } from '@solvebox/protocol';

const BYTES_TAG = '$bytes';

export function encodeJson(value: TaskSpec | Solution | Proxy): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? { [BYTES_TAG]: Buffer.from(v).toString('base64') } : v));
}

export function decodeJson<T extends TaskSpec | Solution | Proxy>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && BYTES_TAG in v) {
      const b64 = (v as Record<string, unknown>)[BYTES_TAG];
      if (typeof b64 === 'string') return new Uint8Array(Buffer.from(b64, 'base64'));
    }
    return v;
  }) as T;
}
