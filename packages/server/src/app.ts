/**
 * The HTTP application: /in.php and /res.php, answering every protocol outcome with HTTP 200.
 * buildApp never listens, so tests and embedders choose how to serve it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  IDEMPOTENCY_HEADER,
  IDEMPOTENCY_PARAM,
  JSON_CONTENT_TYPE,
  LONG_POLL_HEADER,
  WAIT_PARAM,
  codeReply,
  renderReply,
  v2Error,
  v2ErrorFor,
  type Reply,
} from '@solvebox/protocol';
import { parseJson, parseMultipart, parseUntyped, parseUrlencoded, type BodyLimits, type ParsedBody } from './http/body.js';
import { clientErrorHandler, InflightRequests, malformedReply } from './http/client-errors.js';
import { trustFunction } from './http/client-ip.js';
import { FastPolls, LONG_POLL } from './http/fast-poll.js';
import { FastSubmits } from './http/fast-submit.js';
import { NEVER_ABORTED, flagsFromQuery, protocolRequest, type ProtocolRequest } from './http/request.js';
import { handleResult } from './routes/results.js';
import { submitTask } from './routes/submit.js';
import { V2_ENDPOINTS, type V2Reply } from './routes/v2.js';
import { checkHealth } from './health.js';
import type { Services } from './services.js';
import type { Metrics } from './metrics.js';
import { isStorageError } from './storage/types.js';

type Handler = (req: ProtocolRequest, ip: string, svc: Services) => Promise<Reply>;

/** Fastify's own defaults, which a server we create ourselves must set. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Slow or stalled clients must not pin connections forever. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Node's own limit on a request's line and headers, which a GET without an image needs at most. */
const PLAIN_HEADER_BYTES = 16 * 1024;

/**
 * The request line and headers a server accepts: room for a `method=base64` GET whose image is at
 * the size limit, percent-encoded at worst (every base64 character as `%XX`), plus ordinary headers.
 */
export function maxHeaderBytes(imageMaxBytes: number): number {
  return Math.ceil(imageMaxBytes / 3) * 4 * 3 + PLAIN_HEADER_BYTES;
}

const ENDPOINTS: ReadonlyArray<readonly [string, Handler]> = [
  ['/in.php', submitTask],
  ['/res.php', handleResult],
];

/** Every protocol path and its dialect: v1's two, and the JSON API's (routes/v2.ts). */
const PROTOCOL_PATHS = new Map<string, 'v1' | 'v2'>([
  ...ENDPOINTS.map(([path]) => [path, 'v1'] as const),
  ...V2_ENDPOINTS.map(([path]) => [path, 'v2'] as const),
]);

/** Observes a framework request's duration, by endpoint, when its answer is sent. */
function timeRequest(metrics: Metrics, req: IncomingMessage, res: ServerResponse, started: number): void {
  const path = (req.url ?? '').split('?', 1)[0] as string;
  const endpoint = PROTOCOL_PATHS.has(path) || path === '/health' ? path : 'other';
  res.once('finish', () => metrics.httpRequest(endpoint, (performance.now() - started) / 1000));
}

export function buildApp(svc: Services): FastifyInstance {
  const { config } = svc;
  const trust = trustFunction(config.trustProxy);
  const fastPolls = new FastPolls(svc, trust);
  const fastSubmits = new FastSubmits(svc, trust);
  const inflight = new InflightRequests();
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: trust ?? false,
    // Requests the HTTP parser refuses get protocol answers too (http/client-errors.ts).
    clientErrorHandler: clientErrorHandler(svc, inflight, PROTOCOL_PATHS, (socket) => socket.remoteAddress ?? ''),
    // Polls answerable from memory and in.php posts skip the framework (http/fast-poll.ts,
    // http/fast-submit.ts); everything else goes through it.
    serverFactory: (handler) => {
      // No Host header is needed to answer: HTTP/1.0-style clients that omit it get protocol answers too.
      const server = createServer({ maxHeaderSize: maxHeaderBytes(config.imageMaxBytes), requireHostHeader: false }, (req, res) => {
        inflight.track(req, res);
        const fast = config.fastPaths ? fastPolls.answer(req) : undefined;
        const submitParser = config.fastPaths && !fast ? fastSubmits.parserFor(req) : undefined;
        if (submitParser) {
          if (svc.metrics) {
            timeRequest(svc.metrics, req, res, performance.now());
            svc.metrics.fastSubmit();
          }
          fastSubmits.answer(req, res, submitParser).catch((err: unknown) => {
            // Nothing here throws by design; should something, the connection ends rather than the process.
            svc.log.error({ err, path: '/in.php' }, 'unexpected error');
            res.destroy();
          });
        } else if (fast) {
          res.writeHead(200, fast.headers as string[]).end(fast.body);
          // Answered from memory in microseconds: counted, not timed (a histogram observation
          // costs this path a tenth of its throughput).
          svc.metrics?.fastPoll();
        } else {
          if (svc.metrics) timeRequest(svc.metrics, req, res, performance.now());
          handler(req, res);
        }
      });
      // A client that half-closes after writing its request (the only way to say "that was all" after
      // a Content-Length that promised more) still gets its answer; Node's default ends the socket first.
      (server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
      // An error on the listening socket (accept failing with EMFILE under a connection flood) would
      // otherwise go uncaught; the server keeps its listener and serves again once descriptors free up.
      server.on('error', (err) => server.listening && svc.log.error({ err }, 'HTTP server error'));
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      server.requestTimeout = REQUEST_TIMEOUT_MS;
      return server;
    },
    // Queries are parsed by the handlers, where the body is merged in.
    routerOptions: { querystringParser: () => ({}) },
  });
  const limits: BodyLimits = { bodyBytes: config.bodyLimitBytes, fileBytes: config.imageMaxBytes };

  // Node closes a closing server's idle connections once, when closing begins. A request still in
  // flight then leaves its connection idle a moment later, and a client that keeps it alive (as
  // the server's keep-alive hint invites) held the close for the whole keep-alive timeout, 72 s:
  // so connections are closed as they fall idle until the server is closed.
  let closeIdle: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closeIdle = setInterval(() => app.server.closeIdleConnections(), 50);
  });
  app.addHook('onClose', async () => clearInterval(closeIdle));

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', (_req: FastifyRequest, payload: Readable) => parseUrlencoded(payload, limits));
  app.addContentTypeParser('application/json', (_req: FastifyRequest, payload: Readable) => parseJson(payload, limits));
  app.addContentTypeParser('multipart/form-data', (req: FastifyRequest, payload: Readable) => parseMultipart(req.headers, payload, limits));
  app.addContentTypeParser('*', (req: FastifyRequest, payload: Readable) => parseUntyped(req.headers['content-type'], payload, limits));

  const send = (reply: FastifyReply, answer: Reply, flags: { json: boolean; acao: boolean }): FastifyReply => {
    const { body, contentType } = renderReply(answer, flags.json);
    reply.code(200).header('content-type', contentType).header(LONG_POLL_HEADER, LONG_POLL);
    if (flags.acao) reply.header('access-control-allow-origin', '*');
    // A body not read to its end (too large past the drain bound, or broken framing) leaves nothing readable on this connection.
    if (!reply.request.raw.complete) reply.header('connection', 'close');
    return reply.send(body);
  };

  /** A long-poll stops waiting when its client goes away (a close before the answer was sent). */
  const clientGone = (request: FastifyRequest, reply: FastifyReply): AbortSignal => {
    const gone = new AbortController();
    const abort = (): void => void (reply.raw.writableFinished || gone.abort());
    reply.raw.on('close', abort);
    // Half-open connections are allowed (see serverFactory), so a client that closes shows as the
    // end of its side, not a close; a long-poll client never half-closes on purpose.
    const socket = request.raw.socket;
    socket.once('end', abort);
    reply.raw.once('finish', () => socket.off('end', abort));
    return gone.signal;
  };
  /** Browsers send a preflight before cross-origin JSON or multipart posts. */
  const preflight = (path: string): void => {
    app.options(path, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', 'content-type')
        .send(),
    );
  };

  for (const [path, handler] of ENDPOINTS) {
    app.route({
      method: ['GET', 'POST'],
      url: path,
      // A HEAD from a link checker must not submit a task.
      exposeHeadRoute: false,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        let req = protocolRequest(request.url, request.body as ParsedBody | undefined, config.jsonByDefault, NEVER_ABORTED);
        if (req.fields.has(WAIT_PARAM)) req = { ...req, signal: clientGone(request, reply) };
        // Tells clients that sent an idempotency key that this server honours it (see the protocol package).
        if (req.fields.has(IDEMPOTENCY_PARAM)) reply.header(IDEMPOTENCY_HEADER, 'honoured');
        return send(reply, await handler(req, request.ip, svc), req);
      },
    });
    // Other methods get the endpoint's answer to a request it cannot take, rather than a 404 page.
    app.route({
      method: ['PUT', 'DELETE', 'PATCH'],
      url: path,
      handler: async (request: FastifyRequest, reply: FastifyReply) =>
        send(reply, codeReply('ERROR_BAD_PARAMETERS', 'use GET or POST'), flagsFromQuery(request.url, config.jsonByDefault)),
    });
    preflight(path);
  }

  /** JSON API answers: always HTTP 200, errors in the body, as the vendors answer. */
  const sendV2 = (reply: FastifyReply, body: V2Reply): FastifyReply => {
    reply.code(200).header('content-type', JSON_CONTENT_TYPE).header('access-control-allow-origin', '*').header(LONG_POLL_HEADER, LONG_POLL);
    if (!reply.request.raw.complete) reply.header('connection', 'close');
    return reply.send(JSON.stringify(body));
  };
  for (const [path, handler] of V2_ENDPOINTS) {
    app.route({
      method: ['POST', 'GET'],
      url: path,
      exposeHeadRoute: false,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        let req = protocolRequest(request.url, request.body as ParsedBody | undefined, true, NEVER_ABORTED);
        if (req.fields.has(WAIT_PARAM)) req = { ...req, signal: clientGone(request, reply) };
        if (req.fields.has('idempotencyKey')) reply.header(IDEMPOTENCY_HEADER, 'honoured');
        return sendV2(reply, await handler(req, request.ip, svc));
      },
    });
    app.route({
      method: ['PUT', 'DELETE', 'PATCH'],
      url: path,
      handler: async (_request: FastifyRequest, reply: FastifyReply) => sendV2(reply, v2Error('ERROR_NO_SUCH_METHOD', 'use POST with a JSON body')),
    });
    preflight(path);
  }

  // Liveness: the process answers.
  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
  // Readiness, for a load balancer: 200 while storage answers, 503 while it does not.
  app.get('/health', async (_request, reply) => {
    const health = await checkHealth(svc);
    return reply
      .code(health.status === 'ok' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(health);
  });

  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).type('text/plain; charset=utf-8').send('not found: the API is /in.php and /res.php, or /createTask and /getTaskResult');
  });

  // Only faults reach here: parsers never throw and handlers answer every protocol outcome themselves.
  app.setErrorHandler((err, request, reply) => {
    const flags = flagsFromQuery(request.url, config.jsonByDefault);
    const dialect = PROTOCOL_PATHS.get(request.routeOptions.url ?? '');
    // The answer in the endpoint's dialect; other paths get plain HTTP errors.
    const answer = (v1: Reply, status: number, text: string): FastifyReply => {
      if (dialect === 'v1') return send(reply, v1, flags);
      if (dialect === 'v2') return sendV2(reply, v2ErrorFor(String(v1.json.request), v1.json.error_text as string | undefined));
      return reply.code(status).send(text);
    };
    if (isStorageError(err)) {
      svc.log.error({ err, path: request.routeOptions.url }, 'storage fault');
      return answer(codeReply('ERROR_SERVER_ERROR'), 503, 'storage unavailable');
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // The framework refused the request before a handler ran (a malformed Content-Type and the like).
      return answer(malformedReply(svc, request.routeOptions.url, request.ip, status === 413 ? 'too-large' : 'unreadable'), status, 'bad request');
    }
    svc.log.error({ err, path: request.routeOptions.url }, 'unexpected error');
    return answer(codeReply('ERROR_INTERNAL_SERVER_ERROR'), 500, 'internal error');
  });

  return app;
}
