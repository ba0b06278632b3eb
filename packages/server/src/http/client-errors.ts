/**
 * Requests that never become requests: bytes Node's HTTP parser refuses (a Content-Length that is
 * not a number or lies, a broken chunked encoding, a request line or query over the header limit,
 * garbage after a pipelined request, a body cut short by a half-closed connection) and requests
 * that time out. The framework would answer these with a 4xx JSON page; /in.php and /res.php
 * promise HTTP 200 and a protocol code for every outcome, so they get one here, wherever the
 * connection still allows an answer:
 *
 * - the bytes belong to a request whose body is being read: its body reader is told the body is
 *   unreadable, and its route answers it as it answers any unreadable body (ban check first);
 * - the bytes follow a complete request (pipelining): that request is answered first, then the
 *   broken one, from here;
 * - otherwise the broken request is answered from here: IP_BANNED when the IP is known to be
 *   banned, else ERROR_TOO_BIG_CAPTCHA_FILESIZE for an oversized in.php request line, ERROR_UPLOAD
 *   for other in.php faults and ERROR_BAD_PARAMETERS for the rest, plain or JSON as its `json`
 *   flag asks. Bytes that name no path at all are answered as res.php would answer them, except
 *   an oversized request line, which only an in.php image can make.
 *
 * Answers from here close the connection: after a parse error nothing more on it can be read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { codeReply, JSON_CONTENT_TYPE, LONG_POLL_HEADER, renderReply, v2ErrorFor, type ErrorCode, type Reply } from '@solvebox/protocol';
import type { Services } from '../services.js';
import { LONG_POLL } from './fast-poll.js';
import { DRAIN_BYTES } from './body.js';
import { flagsFromQuery } from './request.js';

/** The last request Node parsed on each connection, with its response. */
export class InflightRequests {
  private readonly latest = new WeakMap<Socket, { readonly req: IncomingMessage; readonly res: ServerResponse }>();

  track(req: IncomingMessage, res: ServerResponse): void {
    this.latest.set(req.socket, { req, res });
  }

  of(socket: Socket): { readonly req: IncomingMessage; readonly res: ServerResponse } | undefined {
    return this.latest.get(socket);
  }
}

/** Marks the error that a broken connection raises on the body stream of its in-flight request. */
export class BrokenBodyError extends Error {
  constructor(cause: Error) {
    super('the request body could not be read', { cause });
  }
}

const REQUEST_LINE = /^[A-Z]{1,16} (\S+) HTTP\/1\.[01]\r?\n/;

/** The target of the request line at the start of `raw`, if there is a whole one there. */
function requestTarget(raw: Buffer | undefined): string | undefined {
  if (!raw || raw.length === 0) return undefined;
  // A request line that overflowed the limit has no end in the packet: read what is there.
  const head = raw.subarray(0, 8192).toString('latin1');
  const whole = REQUEST_LINE.exec(head)?.[1];
  if (whole !== undefined) return whole;
  return /^[A-Z]{1,16} (\/\S*)$/.exec(head)?.[1];
}

function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/** How long an answered broken connection may stay idle, and stay open at all, while its client finishes writing. */
const DRAIN_IDLE_MS = 5000;
const DRAIN_MAX_MS = 30_000;

/** The endpoints whose malformed requests get protocol answers, and in which dialect (the app's own lists). */
export type ProtocolPaths = ReadonlyMap<string, 'v1' | 'v2'>;

export function clientErrorHandler(svc: Services, inflight: InflightRequests, protocolPaths: ProtocolPaths, clientIp: (socket: Socket) => string) {
  const answered = new WeakSet<Socket>();
  return (error: Error, socket: Socket): void => {
    // Node adds these to the errors of its HTTP parser.
    const err = error as Error & { code?: string; rawPacket?: unknown };
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const current = inflight.of(socket);

    // Node's parser goes on failing on every later chunk of the connection: answer once, then read
    // and discard (so that a client still writing sees the answer rather than a reset), within bounds.
    if (answered.has(socket)) {
      if (socket.bytesRead > DRAIN_BYTES) socket.destroy();
      return;
    }
    answered.add(socket);

    // The broken bytes are the body of a request whose route is reading it: let the route answer.
    if (current && !current.req.complete && !current.res.writableEnded && current.req.listenerCount('error') > 0) {
      current.req.emit('error', new BrokenBodyError(err));
      // After its answer the connection closes (the route sees an incomplete request).
      return;
    }

    const target =
      current && !current.req.complete ? current.req.url : (requestTarget(Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined) ?? current?.req.url);
    const answer = (): void => {
      if (!socket.writable) return void socket.destroy();
      socket.end(rawAnswer(svc, protocolPaths, err, target, clientIp(socket)));
      socket.setTimeout(DRAIN_IDLE_MS, () => socket.destroy());
      // A client that trickles bytes is never idle: it gets a hard limit too.
      const limit = setTimeout(() => socket.destroy(), DRAIN_MAX_MS);
      limit.unref();
      socket.once('close', () => clearTimeout(limit));
    };
    // Pipelined after a complete request: that request's answer goes first. Its last bytes are in
    // the socket at 'prefinish', before Node may end a half-closed connection at 'finish'.
    if (current?.req.complete && !current.res.writableEnded) {
      current.res.once('prefinish', answer);
      current.res.once('close', () => socket.destroy());
    } else answer();
  };
}

/** What went wrong with a request that could not be read as one. */
export type Malformation = 'unreadable' | 'too-large' | 'timeout';

const WHY: Record<Malformation, string> = {
  unreadable: 'the request could not be read',
  'too-large': 'the request line and headers are too large',
  timeout: 'the request did not arrive in time',
};

/**
 * The protocol answer to a malformed request on a protocol path: IP_BANNED when the IP is known to
 * be banned (from memory: nothing is read for a request that cannot be read), else the code the
 * endpoint uses for an unreadable request.
 */
export function malformedReply(svc: Services, path: string | undefined, ip: string, malformation: Malformation): Reply {
  if (svc.gate.knownBan(ip, svc.clock()) === true) return codeReply('IP_BANNED');
  const code: ErrorCode = path !== '/in.php' ? 'ERROR_BAD_PARAMETERS' : malformation === 'too-large' ? 'ERROR_TOO_BIG_CAPTCHA_FILESIZE' : 'ERROR_UPLOAD';
  return codeReply(code, WHY[malformation]);
}

function rawAnswer(svc: Services, protocolPaths: ProtocolPaths, err: { code?: string }, target: string | undefined, ip: string): string {
  const malformation: Malformation = err.code === 'HPE_HEADER_OVERFLOW' ? 'too-large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timeout' : 'unreadable';
  // A request line that overflows after its first packet has lost its path by now; only a submit
  // carries an image in its query, so an overflow is answered as in.php would answer it.
  const path = target !== undefined ? pathOf(target) : malformation === 'too-large' ? '/in.php' : undefined;
  if (path !== undefined && !protocolPaths.has(path)) {
    const status =
      malformation === 'too-large' ? '431 Request Header Fields Too Large' : malformation === 'timeout' ? '408 Request Timeout' : '400 Bad Request';
    const body = 'bad request';
    return `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  }
  const flags = flagsFromQuery(target ?? '', svc.config.jsonByDefault);
  const reply = malformedReply(svc, path, ip, malformation);
  const { body, contentType } =
    path !== undefined && protocolPaths.get(path) === 'v2'
      ? { body: JSON.stringify(v2ErrorFor(String(reply.json.request), reply.json.error_text as string | undefined)), contentType: JSON_CONTENT_TYPE }
      : renderReply(reply, flags.json);
  const headers = [`Content-Type: ${contentType}`, `Content-Length: ${Buffer.byteLength(body)}`, `${LONG_POLL_HEADER}: ${LONG_POLL}`];
  if (flags.acao) headers.push('Access-Control-Allow-Origin: *');
  return `HTTP/1.1 200 OK\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n${body}`;
}
