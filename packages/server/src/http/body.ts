/**
 * Request bodies: urlencoded, JSON and multipart are read into fields and files; any other
 * content type is read and ignored, so that its query string still counts. Parsers never throw:
 * an unreadable or oversized body is reported to the handler, which answers it with a protocol
 * code after the ban check, like every other problem.
 */
import type { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import busboy from 'busboy';
import type { UploadedFile } from '@solvebox/protocol';

export interface ParsedBody {
  readonly fields: ReadonlyMap<string, string>;
  readonly files: ReadonlyMap<string, UploadedFile>;
  readonly problem?: 'unreadable' | 'too-large';
}

export interface BodyLimits {
  /** Largest body read at all. */
  readonly bodyBytes: number;
  /** Largest file part kept; a longer one is cut to this many bytes plus one, which the image check refuses. */
  readonly fileBytes: number;
}

const NO_FIELDS: ReadonlyMap<string, string> = new Map();
const NO_FILES: ReadonlyMap<string, UploadedFile> = new Map();
export const EMPTY_BODY: ParsedBody = { fields: NO_FIELDS, files: NO_FILES };
const UNREADABLE: ParsedBody = { ...EMPTY_BODY, problem: 'unreadable' };
const TOO_LARGE: ParsedBody = { ...EMPTY_BODY, problem: 'too-large' };

/** Reads a whole body up to `limit` bytes; a longer one is drained and reported as undefined. */
export function readBody(payload: Readable, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    payload.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    payload.on('error', () => resolve(undefined));
  });
}

export async function parseUrlencoded(payload: Readable, limits: BodyLimits): Promise<ParsedBody> {
  const raw = await readBody(payload, limits.bodyBytes);
  if (raw === undefined) return TOO_LARGE;
  return { fields: new Map(new URLSearchParams(raw.toString('utf8'))), files: NO_FILES };
}

export async function parseJson(payload: Readable, limits: BodyLimits): Promise<ParsedBody> {
  const raw = await readBody(payload, limits.bodyBytes);
  if (raw === undefined) return TOO_LARGE;
  const text = raw.toString('utf8');
  if (text.trim() === '') return EMPTY_BODY;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return UNREADABLE;
    const fields = new Map<string, string>();
    for (const [name, value] of Object.entries(parsed)) {
      // Numbers and booleans are what JSON clients send for flags and ids; nested values keep their JSON text.
      if (value === null || value === undefined) continue;
      fields.set(name, typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value));
    }
    return { fields, files: NO_FILES };
  } catch {
    return UNREADABLE;
  }
}

export async function ignoreBody(payload: Readable, limits: BodyLimits): Promise<ParsedBody> {
  return (await readBody(payload, limits.bodyBytes)) === undefined ? TOO_LARGE : EMPTY_BODY;
}

export function parseMultipart(headers: IncomingHttpHeaders, payload: Readable, limits: BodyLimits): Promise<ParsedBody> {
  return new Promise((resolve) => {
    const fields = new Map<string, string>();
    const files = new Map<string, UploadedFile>();
    let settled = false;
    let size = 0;
    const finish = (body: ParsedBody): void => {
      if (settled) return;
      settled = true;
      if (body.problem) {
        payload.unpipe();
        payload.resume(); // drain the rest so the connection stays usable
      }
      resolve(body);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers,
        limits: { fieldSize: limits.bodyBytes, fileSize: limits.fileBytes + 1, files: 20, fields: 500, parts: 520 },
      });
    } catch {
      // Not multipart after all, or no boundary: nothing can be read.
      payload.resume();
      return resolve(UNREADABLE);
    }
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.bodyBytes) finish(TOO_LARGE);
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) finish(TOO_LARGE);
      else fields.set(name, value);
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        files.set(name, { ...(info.filename === undefined ? {} : { filename: info.filename }), data: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    parser.on('close', () => finish({ fields, files }));
    parser.on('error', () => finish(UNREADABLE));
    payload.on('error', () => finish(UNREADABLE));
    payload.pipe(parser);
  });
}
