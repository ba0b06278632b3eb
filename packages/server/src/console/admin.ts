/**
 * The dashboard's API (admin role): the live overview, accounts, bans, operators and the audit
 * log. Every change is written to the audit log before it is answered.
 */
import { TASK_TYPES } from '@solvebox/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAccount } from '../accounts.js';
import { checkHealth } from '../health.js';
import type { Metrics } from '../metrics.js';
import { formatMicros, parseMicros } from '../money.js';
import type { Services } from '../services.js';
import type { HumanDesk } from '../storage/desk.js';
import type { OperatorRole } from '../storage/types.js';
import type { DeskStreams } from './desk-streams.js';
import type { Session, Sessions } from './sessions.js';

export interface AdminDeps {
  readonly services: Services;
  readonly desk: HumanDesk;
  readonly metrics: Metrics;
  readonly sessions: Sessions;
  readonly streams: DeskStreams;
  readonly authorize: (request: FastifyRequest, reply: FastifyReply, role?: OperatorRole) => Promise<Session | undefined>;
}

const AUDIT_SHOWN = 200;
const MAX_THREADS = 100_000;

export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { services, desk, metrics, sessions, authorize } = deps;
  const { storage, clock, gate } = services;
  const admin = (request: FastifyRequest, reply: FastifyReply) => authorize(request, reply, 'admin');
  const audit = (session: Session, action: string, target: string, detail?: string) =>
    storage.appendAudit({ at: clock(), actor: session.operator, action, target, ...(detail ? { detail } : {}) });

  app.get('/api/admin/overview', async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    const now = clock();
    const [queues, deskCounts, online, solvers, health] = await Promise.all([
      storage.queueDepth(now),
      desk.counts(now),
      desk.online(now),
      storage.solverStats(),
      checkHealth(services),
    ]);
    const recent = metrics.recent(now);
    const routes = Object.fromEntries(TASK_TYPES.map((type) => [type, { solver: services.config.solvers[type], fallbacks: services.config.fallbacks[type] }]));
    return {
      now,
      queues,
      routes,
      desk: deskCounts,
      online,
      perMinute: recent.perMinute,
      latency: recent.latency,
      ocr: { ...recent.ocr, declineRate: ratio(recent.ocr.declined, recent.ocr.declined + recent.ocr.read) },
      solvers: solvers.map((s) => ({ ...s, accuracy: ratio(s.reportedGood, s.reportedGood + s.reportedBad) })),
      health,
      ocrModel: services.ocr?.model ?? null,
    };
  });
  app.post('/api/admin/ocr/reload', async (request, reply) => {
    const session = await admin(request, reply);
    if (!session) return reply;
    if (!services.ocr) return reply.code(409).send({ error: 'this node runs no OCR' });
    let model: Awaited<ReturnType<typeof services.ocr.reload>>;
    try {
      model = await services.ocr.reload();
    } catch (err) {
      return reply.code(422).send({ error: `the model did not load, and the previous one stays in use: ${(err as Error).message}` });
    }
    await audit(session, 'ocr.reload', model.dir);
    return model;
  });

  // ---- accounts -----------------------------------------------------------------------------
  app.get('/api/admin/accounts', async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    const accounts = await storage.listAccounts();
    return accounts.map((a) => ({
      id: a.id,
      keyHint: a.keyHint,
      threads: a.threads,
      balance: formatMicros(a.balanceMicros),
      proxiesAllowed: a.proxiesAllowed,
      disabled: a.disabled,
      createdAt: a.createdAt,
    }));
  });
  app.post('/api/admin/accounts', async (request, reply) => {
    const session = await admin(request, reply);
    if (!session) return reply;
    const body = (request.body ?? {}) as { threads?: unknown; balance?: unknown; proxiesAllowed?: unknown };
    const threads = body.threads === undefined ? 5 : Number(body.threads);
    const balanceMicros = body.balance === undefined ? 0 : parseMicros(String(body.balance));
    if (!Number.isInteger(threads) || threads < 0 || threads > MAX_THREADS)
      return reply.code(400).send({ error: `threads: a whole number from 0 to ${MAX_THREADS}` });
    if (balanceMicros === undefined) return reply.code(400).send({ error: 'balance: an amount such as 10 or 2.50' });
    const { account, key } = await createAccount(storage, { threads, balanceMicros, proxiesAllowed: body.proxiesAllowed !== false }, clock());
    await audit(session, 'account.create', String(account.id), `threads ${threads}, balance ${formatMicros(balanceMicros)}`);
    // The only time the key is shown: it is stored as a hash.
    return { id: account.id, key };
  });
  app.post('/api/admin/accounts/:id', async (request, reply) => {
    const session = await admin(request, reply);
    if (!session) return reply;
    const id = Number((request.params as { id: string }).id);
    const body = (request.body ?? {}) as { disabled?: unknown; threads?: unknown; credit?: unknown };
    if (!Number.isInteger(id) || !(await storage.findAccount({ id }))) return reply.code(404).send({ error: 'no such account' });
    if (body.threads !== undefined && (!Number.isInteger(body.threads) || (body.threads as number) < 0 || (body.threads as number) > MAX_THREADS)) {
      return reply.code(400).send({ error: `threads: a whole number from 0 to ${MAX_THREADS}` });
    }
    const creditMicros = body.credit === undefined ? undefined : parseMicros(String(body.credit).replace(/^-/, ''));
    if (body.credit !== undefined && creditMicros === undefined) return reply.code(400).send({ error: 'credit: an amount such as 10 or -2.50' });
    if (typeof body.disabled === 'boolean') {
      await storage.setAccountDisabled(id, body.disabled);
      await audit(session, body.disabled ? 'account.disable' : 'account.enable', String(id));
    }
    if (body.threads !== undefined || creditMicros !== undefined) {
      const credit = creditMicros === undefined ? undefined : String(body.credit).startsWith('-') ? -creditMicros : creditMicros;
      await storage.updateAccount(id, {
        ...(body.threads !== undefined ? { threads: body.threads as number } : {}),
        ...(credit !== undefined ? { creditMicros: credit } : {}),
      });
      const changes = [
        body.threads !== undefined ? `threads ${body.threads}` : '',
        credit !== undefined ? `credit ${credit < 0 ? '-' : ''}${formatMicros(Math.abs(credit))}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      await audit(session, 'account.update', String(id), changes);
    }
    // The change applies on this node at once; other nodes read it within --auth-cache.
    gate.forgetAccount(id);
    return { ok: true };
  });

  // ---- bans ---------------------------------------------------------------------------------
  app.get('/api/admin/bans', async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    return storage.listBans(clock());
  });
  app.post('/api/admin/bans/:ip/lift', async (request, reply) => {
    const session = await admin(request, reply);
    if (!session) return reply;
    const { ip } = request.params as { ip: string };
    if (!(await storage.liftBan(ip))) return reply.code(404).send({ error: 'that address is not banned' });
    gate.forgetBan(ip);
    await audit(session, 'ban.lift', ip);
    return { ok: true };
  });

  // ---- operators and the audit log ----------------------------------------------------------
  app.get('/api/admin/operators', async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    const online = new Set(await desk.online(clock()));
    return (await storage.listOperators()).map(({ passwordHash: _, ...o }) => ({ ...o, online: online.has(o.name) }));
  });
  app.post('/api/admin/operators/:name', async (request, reply) => {
    const session = await admin(request, reply);
    if (!session) return reply;
    const { name } = request.params as { name: string };
    const { disabled } = (request.body ?? {}) as { disabled?: unknown };
    if (typeof disabled !== 'boolean') return reply.code(400).send({ error: 'send {"disabled": true} or false' });
    if (name === session.operator && disabled) return reply.code(400).send({ error: 'you cannot disable yourself' });
    if (!(await storage.setOperatorDisabled(name, disabled))) return reply.code(404).send({ error: 'no such operator' });
    if (disabled) sessions.closeAll(name);
    await audit(session, disabled ? 'operator.disable' : 'operator.enable', name);
    return { ok: true };
  });
  app.get('/api/admin/audit', async (request, reply) => {
    if (!(await admin(request, reply))) return reply;
    return storage.readAudit(AUDIT_SHOWN);
  });
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
