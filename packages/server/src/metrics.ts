/**
 * Prometheus metrics (prom-client), served by the console's listener at `/metrics`. Counters and
 * histograms are fed as things happen (the runner's settlements, HTTP requests, storage calls);
 * gauges of state (queue depth, bans, the desk, operators online) are read from storage at scrape
 * time, so that every node of a Redis deployment reports the shared figures. docs/operations.md
 * lists them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TaskType } from '@solvebox/protocol';
import type { HumanDesk, Storage } from './storage/types.js';
import type { Relay, RelayObserver } from './solving/relay/relay.js';
import type { CircuitState } from './solving/circuit.js';

/** Seconds: from a fast OCR read to an operator who takes a minute. */
const SOLVE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30];
const STORAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];

/** How far the dashboard looks back: 15 one-minute buckets. */
const MINUTES = 15;
const MINUTE_MS = 60_000;
/** Solve latencies kept for the dashboard's percentiles: the most recent ones, at most this many. */
const LATENCY_SAMPLES = 4096;

interface MinuteCounts {
  solved: number;
  failed: number;
  /** Settled by the OCR solver, and declined by it. */
  ocrRead: number;
  ocrDeclined: number;
}

/** The dashboard's view of this node's last 15 minutes, in constant memory whatever the load. */
export interface RecentActivity {
  readonly perMinute: readonly { readonly minute: number; readonly solved: number; readonly failed: number }[];
  readonly latency: { readonly p50: number | null; readonly p95: number | null; readonly count: number };
  readonly ocr: { readonly read: number; readonly declined: number };
}

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export class Metrics {
  readonly registry = new Registry();
  private readonly submitted: Counter<'type'>;
  private readonly settled: Counter<'type' | 'backend' | 'outcome' | 'code'>;
  private readonly solveSeconds: Histogram<'type' | 'backend'>;
  private readonly declines: Counter<'type' | 'backend'>;
  private readonly confidence: Histogram;
  private readonly httpSeconds: Histogram<'endpoint'>;
  private readonly storageSeconds: Histogram<'operation'>;
  private readonly bansImposed: Counter;
  private readonly upstreamOutcomes: Counter<'upstream' | 'outcome'>;
  private readonly upstreamSpend: Counter<'upstream'>;
  private readonly upstreamCircuit: Gauge<'upstream'>;
  private relay: Pick<Relay, 'circuits'> | undefined;
  /** Polls the fast path answered (a plain count: the hottest path pays one increment). */
  private fastPolls = 0;
  /** in.php posts the fast path answered. */
  private fastSubmits = 0;
  /** Per-minute counts by the minute's start (epoch ms), for the dashboard; older ones are dropped. */
  private readonly minutes = new Map<number, MinuteCounts>();
  /** A ring of recent solve latencies and when each was observed. */
  private readonly latencies = new Float64Array(LATENCY_SAMPLES);
  private readonly latencyAt = new Float64Array(LATENCY_SAMPLES);
  private latencyCount = 0;
  private readonly refreshState: () => Promise<void>;
  /** Label children by value: the hot paths observe without building label keys. */
  private readonly httpByEndpoint = new Map<string, Histogram.Internal<'endpoint'>>();
  private readonly storageByOperation = new Map<string, Histogram.Internal<'operation'>>();

  constructor(storage: Storage, desk: HumanDesk | undefined, clock: () => number = Date.now) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'solvebox_process_' });
    this.submitted = new Counter({
      name: 'solvebox_tasks_submitted_total',
      help: 'Tasks accepted by in.php or createTask, by type.',
      labelNames: ['type'],
      registers,
    });
    this.settled = new Counter({
      name: 'solvebox_tasks_settled_total',
      help: 'Tasks that ended: outcome solved or failed; code is the error code of a failure (empty when solved); backend is the solver that answered or failed it (human:<operator> for people).',
      labelNames: ['type', 'backend', 'outcome', 'code'],
      registers,
    });
    this.solveSeconds = new Histogram({
      name: 'solvebox_solve_duration_seconds',
      help: 'From a solver leasing a task to its outcome, including time waiting for an operator.',
      labelNames: ['type', 'backend'],
      buckets: SOLVE_BUCKETS,
      registers,
    });
    this.declines = new Counter({
      name: 'solvebox_declines_total',
      help: 'Readings a solver declined (the OCR model doubted them; an operator marked a task unreadable), by type and backend.',
      labelNames: ['type', 'backend'],
      registers,
    });
    this.confidence = new Histogram({
      name: 'solvebox_ocr_confidence',
      help: "The OCR model's probability for its best reading of each image, accepted or declined.",
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'solvebox_http_request_duration_seconds',
      help: 'Protocol API requests through the framework, from arrival to the last byte of the answer, by endpoint (fast polls are counted apart).',
      labelNames: ['endpoint'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.storageSeconds = new Histogram({
      name: 'solvebox_storage_operation_duration_seconds',
      help: 'Storage calls, by operation (a Storage method); SQLite writes include waiting for the group fsync.',
      labelNames: ['operation'],
      buckets: STORAGE_BUCKETS,
      registers,
    });
    this.bansImposed = new Counter({ name: 'solvebox_bans_total', help: 'IP bans imposed after repeated failed authentication.', registers });
    this.upstreamOutcomes = new Counter({
      name: 'solvebox_relay_upstream_outcomes_total',
      help: "How relayed tasks ended at each upstream: solved; failed (the task ended with the upstream's code); next (it could not take the task now, and the next upstream got it); fault (transport failure, server error, timeout or a refused key: counts against its circuit).",
      labelNames: ['upstream', 'outcome'],
      registers,
    });
    this.upstreamSpend = new Counter({
      name: 'solvebox_relay_upstream_spend_dollars_total',
      help: 'What upstreams charged for the tasks they solved (their get2 price or JSON cost, else the price in --upstreams).',
      labelNames: ['upstream'],
      registers,
    });
    this.upstreamCircuit = new Gauge({
      name: 'solvebox_relay_upstream_circuit',
      help: "Each upstream's circuit breaker in this process: 0 closed, 1 half-open (one probe task allowed), 2 open (no tasks until its cooldown ends).",
      labelNames: ['upstream'],
      registers,
    });
    const metrics = this;
    new Counter({
      name: 'solvebox_http_fast_polls_total',
      help: 'res.php polls answered from memory without the framework; not in solvebox_http_request_duration_seconds, which times the rest.',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.fastPolls);
      },
    });

    new Counter({
      name: 'solvebox_http_fast_submits_total',
      help: 'in.php posts answered without the framework (http/fast-submit.ts); timed in solvebox_http_request_duration_seconds like the rest.',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.fastSubmits);
      },
    });

    const depth = new Gauge({
      name: 'solvebox_queue_depth',
      help: 'Unfinished tasks by type and state (queued, active).',
      labelNames: ['type', 'state'],
      registers,
    });
    const bans = new Gauge({ name: 'solvebox_bans_active', help: 'IPs banned now.', registers });
    const deskWaiting = new Gauge({ name: 'solvebox_desk_waiting', help: 'Tasks waiting for an operator, by type.', labelNames: ['type'], registers });
    const deskLeased = new Gauge({ name: 'solvebox_desk_leased', help: 'Tasks an operator holds now.', registers });
    const online = new Gauge({ name: 'solvebox_operators_online', help: 'Operators with the solve view open, on any node.', registers });
    const fsyncs = new Gauge({ name: 'solvebox_sqlite_fsyncs', help: 'SQLite group commit: fsyncs since start.', registers });
    const batch = new Gauge({
      name: 'solvebox_sqlite_writes_per_fsync',
      help: 'SQLite group commit: the mean number of writes one fsync acknowledged since start (the batch size).',
      registers,
    });
    const storageOk = new Gauge({ name: 'solvebox_scrape_storage_ok', help: '1 when the scrape could read the shared state from storage, else 0.', registers });
    // The state gauges are read from storage before each scrape (see scrape()); a failed read
    // leaves the last values and says so in solvebox_scrape_storage_ok.
    this.refreshState = async () => {
      const now = clock();
      try {
        const [queues, banned, deskCounts, who] = await Promise.all([storage.queueDepth(now), storage.listBans(now), desk?.counts(now), desk?.online(now)]);
        depth.reset();
        for (const [type, { queued, active }] of Object.entries(queues)) {
          depth.set({ type, state: 'queued' }, queued);
          depth.set({ type, state: 'active' }, active);
        }
        bans.set(banned.length);
        deskWaiting.reset();
        for (const [type, n] of Object.entries(deskCounts?.waiting ?? {})) deskWaiting.set({ type }, n);
        deskLeased.set(deskCounts?.leased ?? 0);
        online.set(who?.length ?? 0);
        const groupCommit = storage.diagnostics?.().groupCommit as { syncs: number; writes: number } | undefined;
        if (groupCommit) {
          fsyncs.set(groupCommit.syncs);
          batch.set(groupCommit.syncs === 0 ? 0 : groupCommit.writes / groupCommit.syncs);
        }
        storageOk.set(1);
      } catch {
        storageOk.set(0);
      }
    };
  }

  /** The Prometheus text of every metric, with the state gauges read from storage first. */
  async scrape(): Promise<string> {
    await this.refreshState();
    for (const { name, state } of this.relay?.circuits() ?? []) this.upstreamCircuit.set({ upstream: name }, CIRCUIT_VALUE[state]);
    return this.registry.metrics();
  }

  /** Scrapes read the relay's circuits. */
  watchRelay(relay: Pick<Relay, 'circuits'>): void {
    this.relay = relay;
    for (const { name } of relay.circuits()) {
      this.upstreamCircuit.set({ upstream: name }, 0);
      this.upstreamSpend.inc({ upstream: name }, 0);
    }
  }

  relayObserver(): RelayObserver {
    return {
      upstreamOutcome: (upstream, outcome) => this.upstreamOutcomes.inc({ upstream, outcome }),
      upstreamSpent: (upstream, micros) => this.upstreamSpend.inc({ upstream }, micros / 1e6),
    };
  }

  taskSubmitted(type: TaskType): void {
    this.submitted.inc({ type });
  }

  taskSettled(type: TaskType, backend: string, outcome: { solved: true } | { solved: false; code: string }, seconds: number, now: number): void {
    this.settled.inc({ type, backend, outcome: outcome.solved ? 'solved' : 'failed', code: outcome.solved ? '' : outcome.code });
    this.solveSeconds.observe({ type, backend: backend.startsWith('human:') ? 'human' : backend }, seconds);
    const counts = this.minuteOf(now);
    if (outcome.solved) {
      counts.solved++;
      const slot = this.latencyCount++ % LATENCY_SAMPLES;
      this.latencies[slot] = seconds;
      this.latencyAt[slot] = now;
    } else {
      counts.failed++;
    }
    if (backend === 'ocr') counts.ocrRead++;
  }

  declined(type: TaskType, backend: string, now: number): void {
    this.declines.inc({ type, backend });
    if (backend === 'ocr') this.minuteOf(now).ocrDeclined++;
  }

  ocrConfidence(probability: number): void {
    this.confidence.observe(probability);
  }

  fastPoll(): void {
    this.fastPolls++;
  }

  fastSubmit(): void {
    this.fastSubmits++;
  }

  httpRequest(endpoint: string, seconds: number): void {
    let child = this.httpByEndpoint.get(endpoint);
    if (!child) this.httpByEndpoint.set(endpoint, (child = this.httpSeconds.labels({ endpoint })));
    child.observe(seconds);
  }

  storageCall(operation: string, seconds: number): void {
    let child = this.storageByOperation.get(operation);
    if (!child) this.storageByOperation.set(operation, (child = this.storageSeconds.labels({ operation })));
    child.observe(seconds);
  }

  banImposed(): void {
    this.bansImposed.inc();
  }

  /** This node's last 15 minutes: tasks per minute, solve latency percentiles, OCR reads and declines. */
  recent(now: number): RecentActivity {
    const first = Math.floor(now / MINUTE_MS) - (MINUTES - 1);
    let ocrRead = 0;
    let ocrDeclined = 0;
    const perMinute = Array.from({ length: MINUTES }, (_, i) => {
      const counts = this.minutes.get((first + i) * MINUTE_MS);
      ocrRead += counts?.ocrRead ?? 0;
      ocrDeclined += counts?.ocrDeclined ?? 0;
      return { minute: (first + i) * MINUTE_MS, solved: counts?.solved ?? 0, failed: counts?.failed ?? 0 };
    });
    const since = first * MINUTE_MS;
    const times: number[] = [];
    for (let i = 0; i < Math.min(this.latencyCount, LATENCY_SAMPLES); i++) {
      if ((this.latencyAt[i] as number) >= since) times.push(this.latencies[i] as number);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => (times.length === 0 ? null : (times[Math.min(times.length - 1, Math.floor(q * times.length))] as number));
    return { perMinute, latency: { p50: at(0.5), p95: at(0.95), count: times.length }, ocr: { read: ocrRead, declined: ocrDeclined } };
  }

  /** The counts of the minute `now` falls in; a new minute drops those beyond the window. */
  private minuteOf(now: number): MinuteCounts {
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    let counts = this.minutes.get(minute);
    if (!counts) {
      counts = { solved: 0, failed: 0, ocrRead: 0, ocrDeclined: 0 };
      this.minutes.set(minute, counts);
      for (const old of this.minutes.keys()) if (old <= minute - MINUTES * MINUTE_MS) this.minutes.delete(old);
    }
    return counts;
  }
}

/**
 * The storage with each async call timed into `metrics`. Only the methods that return promises
 * are timed; synchronous ones (peekTask, on the poll path) pass through. Each method is wrapped
 * once, so a call costs no allocation beyond the timing itself.
 */
export function timedStorage(storage: Storage, metrics: Metrics): Storage {
  const wrapped = new Map<string | symbol, unknown>();
  return new Proxy(storage, {
    get(target, property) {
      const cached = wrapped.get(property);
      if (cached !== undefined) return cached;
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      const name = String(property);
      const untimed = name === 'openDesk' || name === 'watchQueue' || name.startsWith('on') || name === 'peekTask' || name === 'diagnostics';
      const wrapper = untimed
        ? method.bind(target)
        : (...args: unknown[]) => {
            const started = performance.now();
            const result = method.apply(target, args);
            if (!(result instanceof Promise)) return result;
            return result.finally(() => metrics.storageCall(name, (performance.now() - started) / 1000));
          };
      wrapped.set(property, wrapper);
      return wrapper;
    },
  });
}
