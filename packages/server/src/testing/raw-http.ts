/**
 * HTTP at the byte level, for tests and the fuzz script: write exactly the given bytes to a TCP
 * socket, then read back whatever the server answers, split into responses. No HTTP library sits
 * in between, so truncated bodies, lying lengths and broken framing reach the server as they are.
 */
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawOutcome {
  readonly responses: readonly RawResponse[];
  /** Bytes after the last whole response (a response cut short, or not HTTP at all). */
  readonly trailing: string;
  /** No close and no further response within the time limit. */
  readonly hung: boolean;
  /** The server reset the connection. */
  readonly reset: boolean;
}

export interface RawOptions {
  /**
   * What the client does after writing: `half-close` ends its side and waits for the server to
   * close (the usual case), `close` destroys the socket at once (a client gone mid-request),
   * `keep` keeps the connection open until `expect` responses arrived.
   * @defaultValue 'half-close'
   */
  readonly afterWriting?: 'half-close' | 'close' | 'keep';
  /** The responses expected: with `keep`, the connection stays open until they arrived. @defaultValue 1 */
  readonly expect?: number;
  /** @defaultValue 5000 */
  readonly timeoutMs?: number;
}

/** Splits a byte stream into HTTP/1.1 responses with Content-Length bodies. */
export function parseResponses(bytes: Buffer): { responses: RawResponse[]; trailing: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const lines = bytes.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!status) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const code = Number(status[1]);
    if (code >= 100 && code < 200) {
      at = headEnd + 4; // an interim response (100 Continue) has no body
      continue;
    }
    const length = Number(headers['content-length'] ?? 0);
    const bodyStart = headEnd + 4;
    if (!Number.isInteger(length) || bytes.length < bodyStart + length) break;
    responses.push({ status: code, headers, body: bytes.subarray(bodyStart, bodyStart + length).toString('utf8') });
    at = bodyStart + length;
  }
  return { responses, trailing: bytes.subarray(at) };
}

/** Writes `chunks` in order (each its own write) to host:port and collects the answer. */
export function rawExchange(baseUrl: string, chunks: readonly (string | Uint8Array)[], options: RawOptions = {}): Promise<RawOutcome> {
  const { hostname, port } = new URL(baseUrl);
  const afterWriting = options.afterWriting ?? 'half-close';
  const expect = options.expect ?? 1;
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let reset = false;
    let hung = false;
    const socket = connect({ host: hostname, port: Number(port) });
    const timer = setTimeout(() => {
      hung = true;
      socket.destroy();
    }, options.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      if (afterWriting === 'keep' && parseResponses(Buffer.concat(received)).responses.length >= expect) socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const { responses, trailing } = parseResponses(Buffer.concat(received));
      resolve({ responses, trailing: trailing.toString('latin1'), hung, reset });
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (afterWriting === 'half-close') socket.end();
      else if (afterWriting === 'close') socket.destroy();
    });
  });
}
