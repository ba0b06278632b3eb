/**
 * The operators' console: a listener of its own (127.0.0.1 by default, never the API's), serving
 * the web app's bundle, its JSON API, the solve view's event stream and `/metrics`.
 *
 * Security, in one place: every `/api` route but login needs a session cookie (httpOnly,
 * SameSite=Strict); every POST also needs the session's CSRF token in a header; `/api/admin/*`
 * needs the admin role; logins are rate-limited; every response carries a strict
 * Content-Security-Policy, and the app renders user-supplied text as text only.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { imagesOf, sniffImageFormat, type TaskType } from '@solvebox/protocol';
import type { Metrics } from '../metrics.js';
import type { Services } from '../services.js';
import type { HumanDesk } from '../storage/desk.js';
import type { OperatorRole } from '../storage/types.js';
import { adminRoutes } from './admin.js';
import { solutionOf, type AnswerBody } from './answers.js';
import { loadAssets } from './assets.js';
import { DeskStreams } from './desk-streams.js';
import { LoginGuard } from './login-guard.js';
import { DECOY_HASH, verifyPassword } from './passwords.js';
import { CSRF_HEADER, SESSION_COOKIE, Sessions, csrfMatches, type Session } from './sessions.js';

export interface ConsoleDeps {
  readonly services: Services;
  readonly desk: HumanDesk;
  readonly metrics: Metrics;
  /** The task types the console offers operators. */
  readonly types: readonly TaskType[];
}

/** Scripts, styles, images and connections from this origin only; no inline code, no frames, no plugins. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "media-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const IMAGE_TYPES = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif' } as const;

export function buildConsole(deps: ConsoleDeps): { app: FastifyInstance; streams: DeskStreams; sessions: Sessions } {
  const { services, desk, metrics } = deps;
  const { config, clock, log, storage } = services;
  const sessions = new Sessions(config.consoleSessionMs, clock);
  const guard = new LoginGuard(clock);
  const streams = new DeskStreams({
    desk,
    types: deps.types,
    leaseMs: config.operatorLeaseMs,
    clock,
    onError: (err) => log.warn({ err }, 'console desk stream'),
  });
  const assets = loadAssets();
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, trustProxy: false });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });
  app.setErrorHandler((err: { statusCode?: number; message: string }, _request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err }, 'console request failed');
    return reply.code(status).send({ error: status === 500 ? 'the server could not do that; see its log' : err.message });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));

  /**
   * The session of the request, or a refusal sent: 401 without a valid session, 403 for an admin
   * route without the admin role or a POST without the session's CSRF token.
   */
  const authorize = async (request: FastifyRequest, reply: FastifyReply, role: OperatorRole = 'solver'): Promise<Session | undefined> => {
    const session = sessions.find(cookieOf(request.headers.cookie, SESSION_COOKIE));
    if (!session) {
      await reply.code(401).send({ error: 'log in first' });
      return undefined;
    }
    if (role === 'admin' && session.role !== 'admin') {
      await reply.code(403).send({ error: 'this needs the admin role' });
      return undefined;
    }
    if (request.method !== 'GET' && !csrfMatches(session, header(request, CSRF_HEADER))) {
      await reply.code(403).send({ error: 'missing or wrong CSRF token' });
      return undefined;
    }
    return session;
  };

  // ---- the app ------------------------------------------------------------------------------
  for (const page of ['/', '/solve', '/dashboard']) {
    app.get(page, async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(assets.index));
  }
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  app.get('/assets/:file', async (request, reply) => {
    const file = assets.files.get((request.params as { file: string }).file);
    if (!file) return reply.code(404).send({ error: 'not found' });
    return reply.type(file.type).header('cache-control', 'no-cache').header('etag', file.etag).send(file.body);
  });

  // ---- sessions -----------------------------------------------------------------------------
  app.post('/api/login', async (request, reply) => {
    const { name, password } = (request.body ?? {}) as { name?: unknown; password?: unknown };
    if (typeof name !== 'string' || typeof password !== 'string' || name.length > 64 || password.length > 256) {
      return reply.code(400).send({ error: 'send a name and a password' });
    }
    const wait = guard.retryAfter(request.ip, name);
    if (wait > 0) {
      return reply
        .code(429)
        .header('retry-after', Math.ceil(wait / 1000))
        .send({ error: 'too many failed logins; try again later' });
    }
    const operator = await storage.findOperator(name);
    // Unknown names cost a hash too, so that timing does not tell which names exist.
    const matches = await verifyPassword(password, operator?.passwordHash ?? DECOY_HASH);
    if (!operator || !matches || operator.disabled) {
      guard.failed(request.ip, name);
      return reply.code(401).send({ error: 'wrong name or password' });
    }
    guard.succeeded(request.ip, name);
    const session = sessions.open(operator.name, operator.role);
    reply.header('set-cookie', sessionCookie(session.id, Math.floor(config.consoleSessionMs / 1000)));
    return { name: operator.name, role: operator.role, csrf: session.csrf };
  });
  app.post('/api/logout', async (request, reply) => {
    const session = await authorize(request, reply);
    if (!session) return reply;
    sessions.close(session.id);
    return reply.header('set-cookie', sessionCookie('', 0)).send({ ok: true });
  });
  app.get('/api/me', async (request, reply) => {
    const session = await authorize(request, reply);
    if (!session) return reply;
    return { name: session.operator, role: session.role, csrf: session.csrf };
  });

  // ---- the solve view -----------------------------------------------------------------------
  app.get('/api/desk/stream', async (request, reply) => {
    const session = await authorize(request, reply);
    if (!session) return reply;
    reply.hijack();
    reply.raw.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    streams.open(session.operator, reply.raw);
    return reply;
  });
  /** The task the operator holds, if it is `id`; else a 409 is sent. */
  const heldTask = async (session: Session, id: string, reply: FastifyReply) => {
    const item = await desk.held(session.operator, clock());
    if (item?.taskId === id) return item;
    await reply.code(409).send({ error: 'this task is no longer yours: its lease ran out or it was answered' });
    return undefined;
  };
  app.get('/api/desk/:id/image/:n', async (request, reply) => {
    const session = await authorize(request, reply);
    if (!session) return reply;
    const { id, n } = request.params as { id: string; n: string };
    const item = await heldTask(session, id, reply);
    if (!item) return reply;
    const image = imagesOf(item.spec)[Number(n)];
    const format = image && sniffImageFormat(image);
    if (!image || !format) return reply.code(404).send({ error: 'no such image' });
    return reply.type(IMAGE_TYPES[format]).header('content-disposition', 'inline').send(Buffer.from(image));
  });
  app.get('/api/desk/:id/audio', async (request, reply) => {
    const session = await authorize(request, reply);
    if (!session) return reply;
    const item = await heldTask(session, (request.params as { id: string }).id, reply);
    if (!item) return reply;
    if (item.spec.type !== 'audio') return reply.code(404).send({ error: 'no audio' });
    return reply.type('audio/mpeg').send(Buffer.from(item.spec.audio));
  });
  app.post('/api/desk/:id/:verdict', async (request, reply) => {
    const session = await authorize(request, reply);
    if (!session) return reply;
    const { id, verdict } = request.params as { id: string; verdict: string };
    if (!['answer', 'skip', 'unreadable'].includes(verdict)) return reply.code(404).send({ error: 'not found' });
    const item = await heldTask(session, id, reply);
    if (!item) return reply;
    const now = clock();
    let done: boolean;
    if (verdict === 'skip') {
      done = await desk.release(id, session.operator);
    } else if (verdict === 'unreadable') {
      done = await desk.settle(id, { kind: 'unreadable', operator: session.operator }, now);
    } else {
      const result = solutionOf(item.spec, (request.body ?? {}) as AnswerBody);
      if (!result.ok) return reply.code(422).send({ error: result.problem });
      done = await desk.settle(id, { kind: 'answer', operator: session.operator, solution: result.solution }, now);
    }
    if (!done) return reply.code(409).send({ error: 'this task is no longer yours: its lease ran out or it was answered' });
    streams.nudge(session.operator);
    return { ok: true };
  });

  // ---- admin and metrics --------------------------------------------------------------------
  adminRoutes(app, { services, desk, metrics, sessions, streams, authorize });
  app.get('/metrics', async (request, reply) => {
    const token = config.metricsToken;
    const bearer = /^Bearer (.+)$/i.exec(header(request, 'authorization') ?? '')?.[1];
    const byToken = token !== '' && bearer !== undefined && safeEqual(bearer, token);
    if (!byToken) {
      const session = await authorize(request, reply, 'admin');
      if (!session) return reply;
    }
    return reply.type(metrics.registry.contentType).send(await metrics.scrape());
  });

  return { app, streams, sessions };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
