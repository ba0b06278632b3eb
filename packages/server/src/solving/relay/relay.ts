/**
 * The relay backend: Solvebox as a client of upstream providers (CaptchaAI, 2Captcha, Anti-Captcha,
 * another Solvebox). A task goes to the upstreams that serve its type, in priority order, skipping
 * those whose circuit is open, whose daily budget is spent or whose concurrency is full; each
 * upstream's answer is mapped by outcomes.ts. Talking to upstreams is @solvebox/client's job: its
 * retry classes, poll timing, long-polls, deadlines and aborts are the relay's.
 *
 * Submits are never duplicated: the task's ticket is written before each upstream submit (with an
 * idempotency key of its own) and again with the upstream's id before the first poll, so that a
 * relay restarted after a crash, or a worker that took over a lost lease, polls the same upstream
 * task; a submit cut short by the crash is repeated under the same key, which an upstream that
 * honours keys (a Solvebox does) answers with the first task.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnswerFormatError, Solvebox, SolveboxError, type TaskInput } from '@solvebox/client';
import { SolverDeclined, SolverFailure, type Solution, type SolveContext, type Solver, type Task, type TaskType } from '@solvebox/protocol';
import type { Logger } from '../../logger.js';
import type { RelayStore, RelayTicket } from '../../storage/types.js';
import { Circuit, type CircuitState } from '../circuit.js';
import { UNKNOWN_CODE_VERDICT, verdictFor, type UpstreamVerdict } from './outcomes.js';
import { solutionOf, taskInput } from './task-input.js';
import type { Upstream } from './upstreams.js';

/** Statistics and reports name an upstream's answers `relay:<upstream>`. */
export const RELAY_PREFIX = 'relay:';

/** How an upstream's part in a task ended, for metrics. */
export type UpstreamOutcome = 'solved' | 'failed' | 'next' | 'fault';

export interface RelayObserver {
  upstreamOutcome(upstream: string, outcome: UpstreamOutcome): void;
  upstreamSpent(upstream: string, micros: number): void;
}

export interface RelayOptions {
  readonly upstreams: readonly Upstream[];
  readonly storage: RelayStore;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly observer?: RelayObserver;
  /** How long to wait before looking again when every upstream is at its concurrency limit. @defaultValue 200 */
  readonly busyWaitMs?: number;
}

/** An upstream as /health and the dashboard show it: never its key. */
export interface UpstreamStatus {
  readonly name: string;
  readonly url: string;
  readonly dialect: 'v1' | 'v2';
  readonly types: readonly TaskType[];
  readonly priority: number;
  readonly circuit: CircuitState;
  readonly inFlight: number;
  readonly concurrency: number;
  /** Spent today (UTC), in dollars; the daily budget, 0 = none. */
  readonly spentToday: number;
  readonly dailyBudget: number;
}

class UpstreamLink {
  inFlight = 0;
  readonly circuit: Circuit;
  readonly client: Solvebox;

  constructor(readonly upstream: Upstream) {
    this.circuit = new Circuit(upstream.breakerFailures, upstream.breakerCooldownMs);
    this.client = new Solvebox({
      apiKey: upstream.key,
      baseUrl: upstream.url,
      protocol: upstream.dialect,
      pollIntervalMs: upstream.pollIntervalMs,
      ...(upstream.firstPollMs === undefined ? {} : { firstPollDelayMs: upstream.firstPollMs }),
      // Failover beats waiting: one retry of a transient fault, soon, then the next upstream.
      retries: 1,
      retryBaseDelayMs: 1000,
      threadWaitMs: 0,
      onBan: 'fail',
    });
  }

  get full(): boolean {
    return this.upstream.concurrency > 0 && this.inFlight >= this.upstream.concurrency;
  }
}

/** Why an upstream was passed over, for the decline's message. */
type Skip = 'circuit open' | 'budget spent' | 'busy' | 'failed';

export class Relay {
  private readonly links = new Map<string, UpstreamLink>();
  private readonly clock: () => number;

  constructor(private readonly options: RelayOptions) {
    this.clock = options.clock ?? Date.now;
    for (const upstream of options.upstreams) this.links.set(upstream.name, new UpstreamLink(upstream));
  }

  /** The solver of backend `relay` (every upstream) or `relay:NAME` (that one only). */
  solver(only?: string): Solver {
    if (only !== undefined && !this.links.has(only)) throw new Error(`no upstream named "${only}" in --upstreams`);
    const links = [...this.links.values()].filter((l) => only === undefined || l.upstream.name === only);
    const types = [...new Set(links.flatMap((l) => l.upstream.types))];
    return {
      name: only === undefined ? 'relay' : `${RELAY_PREFIX}${only}`,
      types,
      // Waiting on upstreams costs nothing here; each upstream's own limit applies.
      concurrency: 10_000,
      solve: (task, ctx) =>
        this.solve(
          task,
          ctx,
          links.filter((l) => l.upstream.types.includes(task.spec.type)),
        ),
    };
  }

  async status(): Promise<UpstreamStatus[]> {
    const now = this.clock();
    const day = utcDay(now);
    return Promise.all(
      [...this.links.values()].map(async ({ upstream: u, circuit, inFlight }) => ({
        name: u.name,
        url: u.url,
        dialect: u.dialect,
        types: u.types,
        priority: u.priority,
        circuit: circuit.state(now),
        inFlight,
        concurrency: u.concurrency,
        spentToday: (await this.options.storage.upstreamSpend(u.name, day).catch(() => 0)) / 1e6,
        dailyBudget: u.dailyBudgetMicros / 1e6,
      })),
    );
  }

  /** The circuit of each upstream now, for metrics. */
  circuits(): { readonly name: string; readonly state: CircuitState }[] {
    const now = this.clock();
    return [...this.links.values()].map((l) => ({ name: l.upstream.name, state: l.circuit.state(now) }));
  }

  /**
   * Tells the upstream that answered a task what its client reported. Best effort: a report the
   * upstream refuses is logged, and the client's own report stands.
   */
  async forwardReport(taskId: string, verdict: 'good' | 'bad'): Promise<void> {
    const ticket = await this.options.storage.relayTicket(taskId);
    const link = ticket?.upstreamId === undefined ? undefined : this.links.get(ticket.upstream);
    if (!ticket?.upstreamId || !link) return;
    try {
      await link.client.report(ticket.upstreamId, verdict, { timeoutMs: 30_000 });
    } catch (err) {
      this.options.log.warn({ taskId, upstream: link.upstream.name, code: (err as SolveboxError).code }, 'the upstream did not take a forwarded report');
    }
  }

  private async solve(task: Task, ctx: SolveContext, links: readonly UpstreamLink[]): Promise<Solution> {
    const storage = this.options.storage;
    const input = taskInput(task);
    let ticket = await storage.relayTicket(task.id);
    const skipped = new Map<string, Skip>();
    for (;;) {
      ctx.signal.throwIfAborted();
      const tried = new Set(ticket?.tried ?? []);
      // A ticket whose upstream is still open to it: resume (poll its id, or repeat its submit under its key).
      let resume = ticket && !tried.has(ticket.upstream) ? this.links.get(ticket.upstream) : undefined;
      if (resume && !links.includes(resume)) resume = undefined;
      if (resume) resume.inFlight += 1;
      // pick() takes the upstream's place in the same tick it checks for one, so that tasks
      // choosing at once cannot overfill it.
      const link = resume ?? (await this.pick(links, tried, skipped));
      if (link === 'busy') {
        await sleep(this.options.busyWaitMs ?? 200, undefined, { signal: ctx.signal });
        continue;
      }
      if (!link) {
        const reasons = links.map((l) => `${l.upstream.name}: ${tried.has(l.upstream.name) ? 'failed' : (skipped.get(l.upstream.name) ?? 'failed')}`);
        throw new SolverDeclined(`no upstream answered (${reasons.join('; ') || 'none serves this type'})`);
      }
      let verdict: Awaited<ReturnType<Relay['attempt']>>;
      try {
        if (!resume || !ticket) {
          ticket = { upstream: link.upstream.name, round: (ticket?.round ?? 0) + 1, key: randomUUID(), submittedAt: this.clock(), tried: [...tried] };
          await storage.saveRelayTicket(task.id, ticket);
        }
        verdict = await this.attempt(link, task, ctx, input, ticket, (next) => (ticket = next));
      } finally {
        link.inFlight -= 1;
      }
      if ('solution' in verdict) return verdict.solution;
      // The next upstream: this one is done with the task.
      ticket = { ...ticket, tried: [...tried, link.upstream.name] };
      skipped.set(link.upstream.name, 'failed');
    }
  }

  /**
   * The first upstream in priority order that may take the task now, its place taken (the caller
   * gives it back); 'busy' when only concurrency limits stand in the way.
   */
  private async pick(links: readonly UpstreamLink[], tried: ReadonlySet<string>, skipped: Map<string, Skip>): Promise<UpstreamLink | 'busy' | undefined> {
    const now = this.clock();
    let busy = false;
    for (const link of links) {
      const name = link.upstream.name;
      if (tried.has(name)) continue;
      if (link.upstream.dailyBudgetMicros > 0) {
        const spent = await this.options.storage.upstreamSpend(name, utcDay(now));
        if (spent >= link.upstream.dailyBudgetMicros) {
          skipped.set(name, 'budget spent');
          continue;
        }
      }
      if (link.full) {
        busy = true;
        skipped.set(name, 'busy');
        continue;
      }
      if (!link.circuit.tryPass(now)) {
        skipped.set(name, 'circuit open');
        continue;
      }
      link.inFlight += 1;
      return link;
    }
    return busy ? 'busy' : undefined;
  }

  /**
   * One upstream's turn: submit (unless the ticket already has its id), poll, and map the outcome.
   * Returns the solution, or that the next upstream should try; throws what ends the task.
   */
  private async attempt(
    link: UpstreamLink,
    task: Task,
    ctx: SolveContext,
    input: TaskInput,
    ticket: RelayTicket,
    saved: (ticket: RelayTicket) => void,
  ): Promise<{ solution: Solution } | { next: true }> {
    const u = link.upstream;
    const log = this.options.log;
    try {
      const remainingMs = (): number => Math.max(1, task.deadlineAt - this.clock());
      let upstreamId = ticket.upstreamId;
      if (upstreamId === undefined) {
        upstreamId = await link.client.submit(input, { signal: ctx.signal, timeoutMs: remainingMs(), idempotencyKey: ticket.key });
        const withId = { ...ticket, upstreamId, submittedAt: this.clock() };
        await this.options.storage.saveRelayTicket(task.id, withId);
        saved(withId);
      }
      // The upstream's own timeout runs from its submit, so that a resumed poll keeps the same bound.
      const ownMs = u.timeoutMs > 0 ? Math.max(1, ticket.submittedAt + u.timeoutMs - this.clock()) : Infinity;
      const raw = await link.client.waitForResult(upstreamId, {
        signal: ctx.signal,
        timeoutMs: Math.min(remainingMs(), ownMs),
        kind: input.type,
        withPrice: u.get2,
        // A resumed task has waited already.
        ...(ticket.upstreamId !== undefined ? { firstPollDelayMs: 0 } : {}),
      });
      let solution: Solution;
      try {
        solution = solutionOf(task.spec, raw, input);
      } catch (err) {
        if (!(err instanceof AnswerFormatError)) throw err;
        log.warn(
          { taskId: task.id, upstream: u.name, err: err.message },
          'the upstream answered in a shape the task type does not have; trying the next upstream',
        );
        link.circuit.recordCrash(this.clock());
        this.options.observer?.upstreamOutcome(u.name, 'fault');
        return { next: true };
      }
      link.circuit.recordSuccess();
      const price = priceMicros(raw.extra.price) ?? u.priceMicros;
      if (price > 0) {
        await this.options.storage.addUpstreamSpend(u.name, utcDay(this.clock()), price);
        this.options.observer?.upstreamSpent(u.name, price);
      }
      ctx.price?.(price);
      ctx.credit?.(`${RELAY_PREFIX}${u.name}`);
      this.options.observer?.upstreamOutcome(u.name, 'solved');
      return { solution };
    } catch (err) {
      // Our deadline, a shutdown or a lost lease: not the upstream's doing. The ticket stays, so
      // whoever runs the task next resumes it.
      if (ctx.signal.aborted) {
        link.circuit.recordNeutral();
        throw err;
      }
      if (!(err instanceof SolveboxError)) {
        link.circuit.recordNeutral();
        throw err;
      }
      return this.judge(link, task, err);
    }
  }

  /** Maps an upstream's error by the outcome table: the next upstream, or the end of the task. */
  private judge(link: UpstreamLink, task: Task, err: SolveboxError): { next: true } {
    const u = link.upstream;
    const now = this.clock();
    const context = { taskId: task.id, upstream: u.name, code: err.code, endpoint: err.endpoint };
    let verdict: UpstreamVerdict;
    if (err.kind === 'transport' || err.kind === 'timeout') {
      verdict = { kind: 'next', fault: true };
    } else {
      const known = verdictFor(err.code);
      if (!known) this.options.log.warn({ ...context, errorText: err.errorText }, 'the upstream answered a code no catalog knows; the task ends unsolvable');
      verdict = known ?? UNKNOWN_CODE_VERDICT;
    }
    if (verdict.kind === 'unsolvable') verdict = u.unsolvable === 'next' ? { kind: 'next', fault: false } : { kind: 'end', code: 'ERROR_CAPTCHA_UNSOLVABLE' };
    if (verdict.kind === 'end') {
      // The upstream works; the task is what failed.
      link.circuit.recordSuccess();
      this.options.observer?.upstreamOutcome(u.name, 'failed');
      throw new SolverFailure(verdict.code, `upstream ${u.name} answered ${err.code}`, true);
    }
    if (verdict.fault) {
      link.circuit.recordCrash(now);
      this.options.log.warn({ ...context, errorText: err.errorText }, 'upstream fault; trying the next upstream');
    } else {
      link.circuit.recordNeutral();
      this.options.log.info(context, 'the upstream cannot take the task now; trying the next upstream');
    }
    this.options.observer?.upstreamOutcome(u.name, verdict.fault ? 'fault' : 'next');
    return { next: true };
  }
}

/** `2024-05-01`: budgets are per UTC day. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** An upstream's price (get2's `price`, the JSON API's `cost`) as millionths; undefined when absent or not a price. */
function priceMicros(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 && n < 1e6 ? Math.round(n * 1e6) : undefined;
}
