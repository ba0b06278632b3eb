/**
 * In-memory storage: the reference implementation of the Storage contract. Plain scans keep it
 * obviously correct; it is meant for tests and experiments (`--storage memory`), not for load.
 */
import { randomUUID } from 'node:crypto';
import type { Proxy, Solution, TaskSpec, TaskType } from '@solvebox/protocol';
import type {
  Account,
  Completion,
  AdmitOutcome,
  BanPolicy,
  FailOutcome,
  LeaseRef,
  LeasedTask,
  Mark,
  NewAccount,
  NewTask,
  ReportOutcome,
  SolverStats,
  Storage,
  SweepPolicy,
  SweepResult,
  TaskState,
  TaskView,
  AccountChanges,
  AuditEntry,
  Operator,
  Sample,
  SolvedTask,
  RelayTicket,
} from './types.js';
import { LocalDesk, type HumanDesk } from './desk.js';
import { OVERDUE_CODE } from './shared.js';
import { FinishedListeners } from './shared.js';
import { markKey } from './marks.js';
import { newTaskId } from '../identity.js';

interface TaskRow {
  readonly id: string;
  readonly accountId: number;
  readonly spec: TaskSpec;
  readonly proxy?: Proxy;
  readonly pingback?: string;
  readonly idempotencyKey?: string;
  readonly createdAt: number;
  readonly deadlineAt: number;
  state: TaskState;
  attempts: number;
  availableAt: number;
  leaseId?: string;
  leaseUntil?: number;
  solution?: Solution;
  errorCode?: string;
  priceMicros?: number;
  report?: 'good' | 'bad';
  solver?: string;
  expiresAt?: number;
  relay?: RelayTicket;
}

type AccountRow = Account;

export class MemoryStorage implements Storage {
  readonly kind = 'memory';
  readonly shared = false;
  private readonly accounts = new Map<number, AccountRow>();
  private readonly tasks = new Map<string, TaskRow>();
  private readonly authFailures = new Map<string, number[]>();
  private readonly bans = new Map<string, number>();
  private readonly marks = new Map<string, number>();
  private readonly stats = new Map<string, SolverStats>();
  private readonly operators = new Map<string, Operator>();
  private readonly audit: AuditEntry[] = [];
  /** Insertion order is age: a re-kept sample moves to the end. */
  private readonly samples = new Map<string, Sample>();
  private readonly spend = new Map<string, number>();
  private nextAccountId = 1;
  private readonly finished = new FinishedListeners();

  async createAccount(input: NewAccount): Promise<Account> {
    for (const a of this.accounts.values()) if (a.keyHash === input.keyHash) throw new Error('duplicate key');
    const row: AccountRow = { id: this.nextAccountId++, disabled: false, ...input };
    this.accounts.set(row.id, row);
    return publicAccount(row);
  }

  async findAccount(ref: { id: number } | { keyHash: string }): Promise<Account | undefined> {
    const row = 'id' in ref ? this.accounts.get(ref.id) : [...this.accounts.values()].find((a) => a.keyHash === ref.keyHash);
    return row && publicAccount(row);
  }

  async listAccounts(): Promise<Account[]> {
    return [...this.accounts.values()].map(publicAccount);
  }

  async setAccountDisabled(accountId: number, disabled: boolean): Promise<boolean> {
    const row = this.accounts.get(accountId);
    if (!row) return false;
    this.accounts.set(accountId, { ...row, disabled });
    return true;
  }

  async banExpiry(ip: string, now: number): Promise<number | undefined> {
    const until = this.bans.get(ip);
    return until !== undefined && until > now ? until : undefined;
  }

  async recordAuthFailure(ip: string, now: number, policy: BanPolicy): Promise<number | undefined> {
    const recent = (this.authFailures.get(ip) ?? []).filter((at) => at > now - policy.windowMs);
    recent.push(now);
    if (recent.length >= policy.maxFailures) {
      this.authFailures.delete(ip);
      const until = now + policy.banMs;
      this.bans.set(ip, until);
      return until;
    }
    this.authFailures.set(ip, recent);
    return undefined;
  }

  newTaskId(): string {
    return newTaskId();
  }

  async admitTask(task: NewTask, threads: number, now: number): Promise<AdmitOutcome> {
    if (task.idempotencyKey !== undefined) {
      for (const t of this.tasks.values()) {
        if (t.accountId === task.accountId && t.idempotencyKey === task.idempotencyKey && !isExpired(t, now)) return { kind: 'replayed', id: t.id };
      }
    }
    if (this.tasks.has(task.id)) return { kind: 'duplicate-id' };
    let busy = 0;
    for (const t of this.tasks.values()) if (t.accountId === task.accountId && holdsThread(t, now)) busy++;
    if (busy >= threads) return { kind: 'no-free-thread' };
    this.tasks.set(task.id, {
      id: task.id,
      accountId: task.accountId,
      spec: task.spec,
      ...(task.proxy ? { proxy: task.proxy } : {}),
      ...(task.pingback ? { pingback: task.pingback } : {}),
      ...(task.idempotencyKey ? { idempotencyKey: task.idempotencyKey } : {}),
      createdAt: task.createdAt,
      deadlineAt: task.deadlineAt,
      state: 'queued',
      attempts: 0,
      availableAt: task.createdAt,
    });
    return { kind: 'admitted' };
  }

  async getTasks(accountId: number, ids: readonly string[], now: number): Promise<Map<string, TaskView>> {
    const found = new Map<string, TaskView>();
    for (const id of ids) {
      const view = this.peekTask(accountId, id, now);
      if (view) found.set(id, view);
    }
    return found;
  }

  peekTask(accountId: number, id: string, now: number): TaskView | undefined {
    const t = this.tasks.get(id);
    return !t || t.accountId !== accountId || isExpired(t, now) ? undefined : viewOf(t, now);
  }

  onTaskFinished(listener: (id: string) => void): () => void {
    return this.finished.add(listener);
  }

  async leaseTask(types: readonly TaskType[], now: number, leaseMs: number): Promise<LeasedTask | undefined> {
    let next: TaskRow | undefined;
    for (const t of this.tasks.values()) {
      if (t.state !== 'queued' || !types.includes(t.spec.type) || t.availableAt > now || t.deadlineAt <= now) continue;
      if (!next || t.availableAt < next.availableAt) next = t;
    }
    if (!next) return undefined;
    next.state = 'active';
    next.attempts += 1;
    next.leaseId = randomUUID();
    next.leaseUntil = now + leaseMs;
    return {
      id: next.id,
      leaseId: next.leaseId,
      accountId: next.accountId,
      spec: next.spec,
      ...(next.proxy ? { proxy: next.proxy } : {}),
      ...(next.pingback ? { pingback: next.pingback } : {}),
      attempt: next.attempts,
      deadlineAt: next.deadlineAt,
    };
  }

  async renewLease(lease: LeaseRef, now: number, leaseMs: number): Promise<boolean> {
    const t = this.leased(lease);
    if (t) t.leaseUntil = now + leaseMs;
    return t !== undefined;
  }

  private leased(lease: LeaseRef): TaskRow | undefined {
    const t = this.tasks.get(lease.id);
    return t && t.state === 'active' && t.leaseId === lease.leaseId ? t : undefined;
  }

  async completeTask(lease: LeaseRef, { solution, priceMicros, expiresAt, solver }: Completion, _now: number): Promise<boolean> {
    const t = this.leased(lease);
    if (!t) return false;
    t.state = 'solved';
    t.solution = solution;
    t.priceMicros = priceMicros;
    t.expiresAt = expiresAt;
    t.solver = solver;
    this.count(solver, 'solved');
    this.count(solver, 'chargedMicros', priceMicros);
    endLease(t);
    const account = this.accounts.get(t.accountId);
    if (account) this.accounts.set(account.id, { ...account, balanceMicros: account.balanceMicros - priceMicros });
    this.finished.emit(lease.id);
    return true;
  }

  async failTask(lease: LeaseRef, outcome: { code: string; expiresAt: number; solver?: string } | { retryAt: number }): Promise<FailOutcome> {
    const t = this.leased(lease);
    if (!t) return 'lease-lost';
    endLease(t);
    if ('retryAt' in outcome) {
      t.state = 'queued';
      t.availableAt = outcome.retryAt;
      return 'requeued';
    }
    t.state = 'failed';
    t.errorCode = outcome.code;
    t.expiresAt = outcome.expiresAt;
    if (outcome.solver !== undefined) {
      t.solver = outcome.solver;
      this.count(outcome.solver, 'failed');
    }
    this.finished.emit(lease.id);
    return 'failed';
  }

  async releaseTask(lease: LeaseRef): Promise<void> {
    const t = this.leased(lease);
    if (!t) return;
    endLease(t);
    t.state = 'queued';
    t.attempts -= 1;
  }

  async recoverInFlight(): Promise<number> {
    let n = 0;
    for (const t of this.tasks.values()) {
      if (t.state !== 'active') continue;
      t.state = 'queued';
      endLease(t);
      n++;
    }
    return n;
  }

  async recordReport(accountId: number, id: string, verdict: 'good' | 'bad', now: number): Promise<ReportOutcome> {
    const t = this.tasks.get(id);
    if (!t || t.accountId !== accountId || isExpired(t, now)) return 'not-found';
    if (t.state !== 'solved') return 'not-solved';
    if (t.report) return 'duplicate';
    t.report = verdict;
    if (t.solver !== undefined) this.count(t.solver, verdict === 'good' ? 'reportedGood' : 'reportedBad');
    return 'recorded';
  }

  async recordDecline(solver: string): Promise<void> {
    this.count(solver, 'declined');
  }

  async solverStats(): Promise<SolverStats[]> {
    return [...this.stats.values()].sort((a, b) => (a.solver < b.solver ? -1 : 1));
  }

  private count(solver: string, field: Exclude<keyof SolverStats, 'solver'>, amount = 1): void {
    const current = this.stats.get(solver) ?? { solver, solved: 0, failed: 0, declined: 0, reportedGood: 0, reportedBad: 0, chargedMicros: 0 };
    this.stats.set(solver, { ...current, [field]: current[field] + amount });
  }

  async markBad(mark: Mark, until: number): Promise<void> {
    const { kind, key } = markKey(mark);
    this.marks.set(`${kind}\n${key}`, until);
  }

  async isMarkedBad(mark: Mark, now: number): Promise<boolean> {
    const { kind, key } = markKey(mark);
    const until = this.marks.get(`${kind}\n${key}`);
    return until !== undefined && until > now;
  }

  async sweep(now: number, policy: SweepPolicy): Promise<SweepResult> {
    let overdue = 0;
    let expired = 0;
    let stalled = 0;
    for (const [id, t] of this.tasks) {
      if (t.state === 'active' && t.leaseUntil !== undefined && t.leaseUntil <= now && t.deadlineAt > now) {
        t.state = 'queued';
        endLease(t);
        stalled++;
      }
      if ((t.state === 'queued' || t.state === 'active') && t.deadlineAt <= now) {
        t.state = 'failed';
        t.errorCode = OVERDUE_CODE;
        t.expiresAt = t.deadlineAt + policy.resultTtlMs;
        endLease(t);
        overdue++;
        this.finished.emit(id);
      }
      if (t.expiresAt !== undefined && t.expiresAt <= now) {
        this.tasks.delete(id);
        expired++;
      }
    }
    for (const [ip, times] of this.authFailures) {
      const recent = times.filter((at) => at > now - policy.banWindowMs);
      if (recent.length === 0) this.authFailures.delete(ip);
      else this.authFailures.set(ip, recent);
    }
    for (const [ip, until] of this.bans) if (until <= now) this.bans.delete(ip);
    for (const [key, until] of this.marks) if (until <= now) this.marks.delete(key);
    return { overdue, expired, stalled };
  }

  async createOperator(operator: Operator): Promise<boolean> {
    if (this.operators.has(operator.name)) return false;
    this.operators.set(operator.name, operator);
    return true;
  }

  async findOperator(name: string): Promise<Operator | undefined> {
    return this.operators.get(name);
  }

  async listOperators(): Promise<Operator[]> {
    return [...this.operators.values()];
  }

  async setOperatorDisabled(name: string, disabled: boolean): Promise<boolean> {
    const operator = this.operators.get(name);
    if (!operator) return false;
    this.operators.set(name, { ...operator, disabled });
    return true;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.audit.push(entry);
  }

  async readAudit(limit: number): Promise<AuditEntry[]> {
    return this.audit.slice(-limit).reverse();
  }

  async listBans(now: number): Promise<{ ip: string; until: number }[]> {
    return [...this.bans]
      .filter(([, until]) => until > now)
      .map(([ip, until]) => ({ ip, until }))
      .sort((a, b) => a.until - b.until);
  }

  async liftBan(ip: string): Promise<boolean> {
    this.authFailures.delete(ip);
    return this.bans.delete(ip);
  }

  async updateAccount(accountId: number, changes: AccountChanges): Promise<boolean> {
    const row = this.accounts.get(accountId);
    if (!row) return false;
    this.accounts.set(accountId, {
      ...row,
      threads: changes.threads ?? row.threads,
      balanceMicros: row.balanceMicros + (changes.creditMicros ?? 0),
    });
    return true;
  }

  async queueDepth(_now: number): Promise<Partial<Record<TaskType, { queued: number; active: number }>>> {
    const depth: Partial<Record<TaskType, { queued: number; active: number }>> = {};
    for (const t of this.tasks.values()) {
      if (t.state !== 'queued' && t.state !== 'active') continue;
      const entry = depth[t.spec.type] ?? { queued: 0, active: 0 };
      depth[t.spec.type] = t.state === 'queued' ? { ...entry, queued: entry.queued + 1 } : { ...entry, active: entry.active + 1 };
    }
    return depth;
  }

  openDesk(): HumanDesk {
    return new LocalDesk();
  }

  async keepSample(sample: Sample, keep: number): Promise<void> {
    this.samples.delete(sample.id);
    this.samples.set(sample.id, sample);
    for (const id of this.samples.keys()) {
      if (this.samples.size <= keep) break;
      this.samples.delete(id);
    }
  }

  async dropSample(id: string): Promise<void> {
    this.samples.delete(id);
  }

  async listSamples(offset: number, limit: number): Promise<Sample[]> {
    return [...this.samples.values()].slice(offset, offset + limit);
  }

  async countSamples(): Promise<number> {
    return this.samples.size;
  }

  async purgeSamples(): Promise<number> {
    const count = this.samples.size;
    this.samples.clear();
    return count;
  }

  async solvedTask(accountId: number, id: string, now: number): Promise<SolvedTask | undefined> {
    const t = this.tasks.get(id);
    if (!t || t.accountId !== accountId || t.state !== 'solved' || !t.solution || isExpired(t, now)) return undefined;
    return { spec: t.spec, solution: t.solution, solver: t.solver ?? '' };
  }

  async saveRelayTicket(taskId: string, ticket: RelayTicket): Promise<void> {
    const t = this.tasks.get(taskId);
    if (t) t.relay = ticket;
  }

  async relayTicket(taskId: string): Promise<RelayTicket | undefined> {
    return this.tasks.get(taskId)?.relay;
  }

  async addUpstreamSpend(upstream: string, day: string, micros: number): Promise<number> {
    const total = (this.spend.get(`${upstream}\n${day}`) ?? 0) + micros;
    this.spend.set(`${upstream}\n${day}`, total);
    return total;
  }

  async upstreamSpend(upstream: string, day: string): Promise<number> {
    return this.spend.get(`${upstream}\n${day}`) ?? 0;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}

function publicAccount(row: AccountRow): Account {
  return { ...row };
}

function endLease(t: TaskRow): void {
  delete t.leaseId;
  delete t.leaseUntil;
}

function isExpired(t: TaskRow, now: number): boolean {
  return t.expiresAt !== undefined && t.expiresAt <= now;
}

function holdsThread(t: TaskRow, now: number): boolean {
  return (t.state === 'queued' || t.state === 'active') && t.deadlineAt > now;
}

function viewOf(t: TaskRow, now: number): TaskView {
  const times = { createdAt: t.createdAt, attempts: t.attempts };
  if (holdsThread(t, now) || t.state === 'solved' || t.state === 'failed') {
    return {
      id: t.id,
      type: t.spec.type,
      state: t.state,
      ...(t.solution ? { solution: t.solution } : {}),
      ...(t.errorCode ? { errorCode: t.errorCode } : {}),
      ...(t.priceMicros !== undefined ? { priceMicros: t.priceMicros } : {}),
      ...times,
      ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
    };
  }
  return { id: t.id, type: t.spec.type, state: 'failed', errorCode: OVERDUE_CODE, ...times };
}
