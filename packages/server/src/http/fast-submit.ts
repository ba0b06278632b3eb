/**
 * The fast path of in.php: a POST whose body is a form, JSON or multipart, of a declared length
 * within the limit, is read, checked and answered straight from the HTTP server's request event,
 * without the framework's routing, hooks and reply objects. It uses the same body parsers, the
 * same submitTask and the same rendering as the normal route, and answers the same headers; a
 * test holds the two byte for byte equal. Anything else (GET, HEAD, a chunked or oversized body,
 * `Expect: 100-continue`, another Content-Type) takes the normal route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { codeReply, IDEMPOTENCY_HEADER, IDEMPOTENCY_PARAM, LONG_POLL_HEADER, renderReply, type Reply } from '@solvebox/protocol';
import { submitTask } from '../routes/submit.js';
import type { Services } from '../services.js';
import { isStorageError } from '../storage/types.js';
import { parseJson, parseMultipart, parseUrlencoded, type BodyLimits, type ParsedBody } from './body.js';
import { clientIp, type TrustFunction } from './client-ip.js';
import { LONG_POLL } from './fast-poll.js';
import { NEVER_ABORTED, protocolRequest } from './request.js';

type BodyParser = (req: IncomingMessage, limits: BodyLimits) => Promise<ParsedBody>;

/** The body types this path reads, by media type (parameters such as charset aside). */
const PARSERS: ReadonlyMap<string, BodyParser> = new Map<string, BodyParser>([
  ['application/x-www-form-urlencoded', (req, limits) => parseUrlencoded(req, limits)],
  ['application/json', (req, limits) => parseJson(req, limits)],
  ['multipart/form-data', (req, limits) => parseMultipart(req.headers, req, limits)],
]);

export class FastSubmits {
  private readonly limits: BodyLimits;

  constructor(
    private readonly svc: Services,
    private readonly trust: TrustFunction | undefined,
  ) {
    this.limits = { bodyBytes: svc.config.bodyLimitBytes, fileBytes: svc.config.imageMaxBytes };
  }

  /** The parser for this request when this path answers it; undefined sends it the normal way. */
  parserFor(req: IncomingMessage): BodyParser | undefined {
    const url = req.url;
    if (req.method !== 'POST' || url === undefined || !(url === '/in.php' || url.startsWith('/in.php?'))) return undefined;
    const headers = req.headers;
    if (headers.expect !== undefined || headers['transfer-encoding'] !== undefined) return undefined;
    const length = headers['content-length'];
    if (length === undefined || !(Number(length) <= this.limits.bodyBytes)) return undefined;
    const type = headers['content-type'];
    if (type === undefined) return undefined;
    const semicolon = type.indexOf(';');
    return PARSERS.get((semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase());
  }

  async answer(req: IncomingMessage, res: ServerResponse, parse: BodyParser): Promise<void> {
    const { config, log } = this.svc;
    const url = req.url as string;
    const request = protocolRequest(url, await parse(req, this.limits), config.jsonByDefault, NEVER_ABORTED);
    let reply: Reply;
    try {
      reply = await submitTask(request, clientIp(req, this.trust), this.svc);
    } catch (err) {
      // As the framework's error handler answers the normal route's faults.
      if (isStorageError(err)) {
        log.error({ err, path: '/in.php' }, 'storage fault');
        reply = codeReply('ERROR_SERVER_ERROR');
      } else {
        log.error({ err, path: '/in.php' }, 'unexpected error');
        reply = codeReply('ERROR_INTERNAL_SERVER_ERROR');
      }
    }
    const { body, contentType } = renderReply(reply, request.json);
    const bytes = Buffer.from(body);
    // The normal route's headers, in its order.
    const headers = [LONG_POLL_HEADER, LONG_POLL, 'content-type', contentType];
    if (request.fields.has(IDEMPOTENCY_PARAM)) headers.unshift(IDEMPOTENCY_HEADER, 'honoured');
    if (request.acao) headers.push('access-control-allow-origin', '*');
    // A body not read to its end leaves nothing readable on this connection.
    if (!req.complete) headers.push('connection', 'close');
    headers.push('content-length', String(bytes.length));
    res.writeHead(200, headers).end(bytes);
  }
}
