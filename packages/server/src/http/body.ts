/**
 * Request bodies: urlencoded, JSON and multipart are read into fields and files. Parsers never
 * throw and never leave an emitter without an `error` listener: an unreadable, cut-short or
 * oversized body is reported to the handler, which answers it with a protocol code after the ban
 * check, like every other problem.
 *
 * What real clients send decides the leniency (docs/protocol.md, "Request encodings"):
 * - a body with no Content-Type is a urlencoded form, as PHP-era clients assume;
 * - a body with no type, `text/plain`, or `multipart/form-data` without a boundary is JSON when
 *   it starts with `{` (clients that `JSON.stringify` a body without setting its type);
 * - a multipart type without a boundary that is not JSON is read as a urlencoded form;
 * - any other type is read and ignored, so that its query string still counts.
 *
 * An oversized body is read to its end and thrown away before the answer, up to DRAIN_BYTES, so
 * that a client that writes its whole body before reading sees ERROR_TOO_BIG_CAPTCHA_FILESIZE
 * rather than a reset; past that bound the reading stops and the connection closes after the answer.
 */
import type { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { UploadedFile } from '@solvebox/protocol';
import { parseMultipartBody } from './multipart.js';

export type BodyProblem = 'unreadable' | 'too-large';

export interface ParsedBody {
  readonly fields: ReadonlyMap<string, string>;
  readonly files: ReadonlyMap<string, UploadedFile>;
  readonly problem?: BodyProblem;
}

export interface BodyLimits {
  /** Largest body read at all. */
  readonly bodyBytes: number;
  /** Largest file part kept; a longer one is cut to this many bytes plus one, which the image check refuses. */
  readonly fileBytes: number;
}

/** Most bytes of an oversized or broken body read and discarded before answering (see the header). */
export const DRAIN_BYTES = 16 * 1024 * 1024;

const NO_FIELDS: ReadonlyMap<string, string> = new Map();
const NO_FILES: ReadonlyMap<string, UploadedFile> = new Map();
export const EMPTY_BODY: ParsedBody = { fields: NO_FIELDS, files: NO_FILES };
const UNREADABLE: ParsedBody = { ...EMPTY_BODY, problem: 'unreadable' };
const TOO_LARGE: ParsedBody = { ...EMPTY_BODY, problem: 'too-large' };

type ReadResult = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly problem: BodyProblem };

/**
 * Reads a whole body up to `limit` bytes. A longer one is drained (up to DRAIN_BYTES) and reported
 * as too large; a stream that fails or ends early (a lying Content-Length, a broken chunked
 * encoding, a client gone mid-body) as unreadable.
 */
export function readBody(payload: Readable, limit: number): Promise<ReadResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: ReadResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_BYTES) {
        payload.pause(); // enough has been thrown away: answer now, and close after the answer
        settle({ ok: false, problem: 'too-large' });
      }
    });
    payload.on('end', () => settle(size <= limit ? { ok: true, bytes: Buffer.concat(chunks) } : { ok: false, problem: 'too-large' }));
    payload.on('error', () => settle({ ok: false, problem: size > limit ? 'too-large' : 'unreadable' }));
  });
}

/** A body already in memory, parsed as a urlencoded form. */
function urlencodedFields(raw: Buffer): ParsedBody {
  return { fields: new Map(new URLSearchParams(raw.toString('utf8'))), files: NO_FILES };
}

/** A body already in memory, parsed as a JSON object; anything but an object is unreadable. */
function jsonFields(raw: Buffer): ParsedBody {
  const text = raw.toString('utf8');
  if (text.trim() === '') return EMPTY_BODY;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return UNREADABLE;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return UNREADABLE;
  const fields = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) {
    // Numbers and booleans are what JSON clients send for flags and ids; nested values keep their JSON text.
    if (value === null || value === undefined) continue;
    fields.set(name, typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return { fields, files: NO_FILES };
}

/** Whether a body of no declared structure is a JSON object: its first non-blank byte is `{`. */
function looksLikeJson(raw: Buffer): boolean {
  for (const byte of raw) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b;
  }
  return false;
}

async function parseWith(payload: Readable, limits: BodyLimits, parse: (raw: Buffer) => ParsedBody): Promise<ParsedBody> {
  const read = await readBody(payload, limits.bodyBytes);
  if (!read.ok) return read.problem === 'too-large' ? TOO_LARGE : UNREADABLE;
  return parse(read.bytes);
}

/**
 * A form body, or a JSON object labelled as a form: what `curl -d '{...}'` sends, and clients that
 * keep a form Content-Type for JSON. No form body starts with `{`.
 */
export function parseUrlencoded(payload: Readable, limits: BodyLimits): Promise<ParsedBody> {
  return parseWith(payload, limits, (raw) => (looksLikeJson(raw) ? jsonFields(raw) : urlencodedFields(raw)));
}

export function parseJson(payload: Readable, limits: BodyLimits): Promise<ParsedBody> {
  return parseWith(payload, limits, jsonFields);
}

/**
 * A body without a usable type: with no Content-Type a urlencoded form (or JSON when it starts with
 * `{`); `text/plain` is JSON when it starts with `{` and ignored otherwise; other types are ignored.
 */
export function parseUntyped(contentType: string | undefined, payload: Readable, limits: BodyLimits): Promise<ParsedBody> {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return parseWith(payload, limits, (raw) => {
    if ((type === '' || type === 'text/plain') && looksLikeJson(raw)) return jsonFields(raw);
    return type === '' ? urlencodedFields(raw) : EMPTY_BODY;
  });
}

/**
 * A multipart body, read whole (it is no larger than a form or JSON body may be) and then split
 * (multipart.ts). A multipart type without a boundary is what clients that label a JSON or
 * urlencoded body so send.
 */
export async function parseMultipart(headers: IncomingHttpHeaders, payload: Readable, limits: BodyLimits): Promise<ParsedBody> {
  const read = await readBody(payload, limits.bodyBytes);
  if (!read.ok) return read.problem === 'too-large' ? TOO_LARGE : UNREADABLE;
  const parts = await parseMultipartBody(headers, read.bytes, limits);
  return parts ?? (looksLikeJson(read.bytes) ? jsonFields(read.bytes) : urlencodedFields(read.bytes));
}
