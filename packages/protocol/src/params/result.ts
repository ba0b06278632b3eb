import type { ErrorCode } from '../errors/catalog.js';

/** A refused request: the protocol code to answer and a specific reason for humans. */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: string;
}

export function fail(code: ErrorCode, message: string): Failure {
  return { ok: false, code, message };
}
