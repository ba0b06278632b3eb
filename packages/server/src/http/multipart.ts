/**
 * multipart/form-data, read from a whole body in memory.
 *
 * Busboy is the parser of record. But it is a stream machine: a writable per body, a readable per
 * file, a search object fed chunk by chunk; for the small bodies captcha clients send (a key, a
 * method, one image) that machinery cost more than reading the image itself (about 30 µs of a
 * 10 kB submit). So a body of the plain shape that client libraries write (curl, requests,
 * undici's FormData, form-data, Go's mime/multipart, OkHttp) is split here in one pass with
 * Buffer.indexOf, and anything else at all goes to busboy, unchanged:
 * - the body starts with the first delimiter (no preamble) and ends with the closing one, each
 *   followed by CRLF, and the epilogue after the closing one is ignored, as busboy ignores it;
 * - a part's headers are ASCII, one per line, `name: value`, each name at most once, and only
 *   Content-Disposition, Content-Type, Content-Length and Content-Transfer-Encoding;
 * - the disposition is `form-data; name=…` with an optional non-empty `filename=…` that is no path,
 *   each a token or a quoted string without escapes;
 * - a part without a filename has no Content-Type (busboy would decode it by its charset, or
 *   make it a file when it is application/octet-stream);
 * - at most MAX_PARTS parts, and no file longer than the limit busboy cuts it to.
 * `multipart.test.ts` holds the two readings equal on every body it generates and mutates.
 */
import type { IncomingHttpHeaders } from 'node:http';
import busboy from 'busboy';
import type { UploadedFile } from '@solvebox/protocol';
import type { BodyLimits, BodyProblem, ParsedBody } from './body.js';

/** Busboy's part limits; beyond them it skips parts. */
const BUSBOY_FILES = 20;
const BUSBOY_FIELDS = 500;
/** At most as many parts as busboy takes files, so that no limit of busboy's is ever reached here. */
const MAX_PARTS = BUSBOY_FILES;
/** Far below busboy's 16 KB header limit; a plain part's headers are a line or three. */
const MAX_HEADER_BYTES = 1024;
const CRLF = 0x0d0a;
const DASH_DASH = 0x2d2d;
const HEADER_END = Buffer.from('\r\n\r\n');
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const VALUE = `(?:"([^"\\\\]*)"|(${TOKEN}))`;
const BOUNDARY = new RegExp(`^multipart/form-data[ \\t]*;[ \\t]*boundary=${VALUE}[ \\t]*$`, 'i');
const DISPOSITION = new RegExp(`^form-data[ \\t]*;[ \\t]*name=${VALUE}(?:[ \\t]*;[ \\t]*filename=${VALUE})?[ \\t]*$`, 'i');
const HEADER = /^([A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
const IGNORED_HEADERS = new Set(['content-length', 'content-transfer-encoding']);

/** The boundary of a plain `multipart/form-data; boundary=…` type; undefined for any other form of it. */
export function plainBoundary(contentType: string): string | undefined {
  const match = BOUNDARY.exec(contentType);
  const boundary = match && (match[1] ?? match[2]);
  return boundary ? boundary : undefined;
}

/**
 * A whole multipart body's fields and files: split here when it has the plain shape, by busboy
 * otherwise; undefined when the type names no boundary, which busboy needs.
 */
export function parseMultipartBody(headers: IncomingHttpHeaders, body: Buffer, limits: BodyLimits): ParsedBody | Promise<ParsedBody> | undefined {
  const boundary = plainBoundary(headers['content-type'] ?? '');
  const plain = boundary === undefined ? undefined : parsePlainMultipart(body, boundary, limits);
  return plain ?? parseWithBusboy(headers, body, limits);
}

/** Busboy's reading of a whole body; undefined when the type names no boundary. */
export function parseWithBusboy(headers: IncomingHttpHeaders, body: Buffer, limits: BodyLimits): Promise<ParsedBody> | undefined {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      limits: { fieldSize: limits.bodyBytes, fileSize: limits.fileBytes + 1, files: BUSBOY_FILES, fields: BUSBOY_FIELDS, parts: BUSBOY_FILES + BUSBOY_FIELDS },
    });
  } catch {
    return undefined;
  }
  return new Promise((resolve) => {
    const fields = new Map<string, string>();
    const files = new Map<string, UploadedFile>();
    let problem: BodyProblem | undefined;
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) problem ??= 'too-large';
      else fields.set(name, value);
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A body that ends inside a file part errors the part's stream ("Unexpected end of form").
      stream.on('error', () => (problem ??= 'unreadable'));
      stream.on('end', () => {
        files.set(name, { ...(info.filename === undefined ? {} : { filename: info.filename }), data: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    parser.on('error', () => resolve({ fields: new Map(), files: new Map(), problem: problem ?? 'unreadable' }));
    parser.on('close', () => resolve(problem === undefined ? { fields, files } : { fields: new Map(), files: new Map(), problem }));
    parser.end(body);
  });
}

/** The fields and files of a body of the plain shape (see the header); undefined for anything else. */
export function parsePlainMultipart(body: Buffer, boundary: string, limits: BodyLimits): ParsedBody | undefined {
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  // The first delimiter opens the body, without the CRLF that precedes every later one.
  if (body.length < delimiter.length || body.compare(delimiter, 2, delimiter.length, 0, delimiter.length - 2) !== 0) return undefined;
  const fields = new Map<string, string>();
  const files = new Map<string, UploadedFile>();
  let at = delimiter.length - 2;
  for (let parts = 0; ; parts++) {
    if (at + 2 > body.length) return undefined;
    const after = body.readUInt16BE(at);
    if (after === DASH_DASH) return { fields, files };
    if (after !== CRLF || parts === MAX_PARTS) return undefined;
    // Busboy looks for the next delimiter everywhere, the headers and their blank line included.
    const dataEnd = body.indexOf(delimiter, at);
    const headersAt = at + 2;
    const headersEnd = body.indexOf(HEADER_END, headersAt);
    const dataAt = headersEnd + HEADER_END.length;
    if (dataEnd < 0 || headersEnd < 0 || dataAt > dataEnd || headersEnd - headersAt > MAX_HEADER_BYTES) return undefined;
    const part = partHeaders(body, headersAt, headersEnd);
    if (!part) return undefined;
    if (part.filename === undefined) {
      fields.set(part.name, body.toString('utf8', dataAt, dataEnd));
    } else {
      if (dataEnd - dataAt > limits.fileBytes + 1) return undefined;
      // A view, not a copy: the body is this request's own buffer (readBody joins its chunks).
      files.set(part.name, { filename: part.filename, data: new Uint8Array(body.buffer, body.byteOffset + dataAt, dataEnd - dataAt) });
    }
    at = dataEnd + delimiter.length;
  }
}

/** A part's name and filename, from its header lines; undefined when they are not of the plain shape. */
function partHeaders(body: Buffer, from: number, to: number): { name: string; filename?: string } | undefined {
  // Printable ASCII and tabs (line ends are split below): busboy reads other bytes as Latin-1 or refuses them.
  for (let i = from; i < to; i++) {
    const byte = body[i]!;
    if (byte > 0x7e || (byte < 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a)) return undefined;
  }
  let disposition: string | undefined;
  let contentType = false;
  const seen = new Set<string>();
  for (const line of body.toString('latin1', from, to).split('\r\n')) {
    const header = HEADER.exec(line);
    if (!header) return undefined;
    const name = header[1]!.toLowerCase();
    if (seen.has(name)) return undefined;
    seen.add(name);
    if (name === 'content-disposition') disposition = header[2];
    else if (name === 'content-type') contentType = true;
    else if (!IGNORED_HEADERS.has(name)) return undefined;
  }
  const match = disposition === undefined ? null : DISPOSITION.exec(disposition);
  if (!match) return undefined;
  const name = match[1] ?? match[2]!;
  const filename = match[3] ?? match[4];
  if (name === '') return undefined;
  if (filename === undefined) return contentType ? undefined : { name };
  // Busboy keeps a filename's last path segment, and gives '' for '.' and '..'.
  if (filename === '' || filename === '.' || filename === '..' || /[/\\]/.test(filename)) return undefined;
  return { name, filename };
}
