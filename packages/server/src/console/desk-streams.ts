/**
 * The live side of the solve view: one server-sent-event stream per open solve view. Each stream
 * offers its operator the task they hold, or leases the next one from the desk; a new task (on any
 * node), a released one, or a lease running out reaches every idle operator within moments.
 */
import type { ServerResponse } from 'node:http';
import type { TaskType } from '@solvebox/protocol';
import type { HumanDesk } from '../storage/desk.js';
import { cardOf } from './answers.js';

/** How often each stream looks at the desk unprompted (leases that ran out, missed messages). */
const RECHECK_MS = 2000;
/** How often a connected operator's presence is renewed, and how long it lasts unrenewed. */
const PRESENCE_RENEW_MS = 10_000;
const PRESENCE_MS = 30_000;

interface Stream {
  readonly operator: string;
  readonly res: ServerResponse;
  /** The task this stream shows, and when its lease ends. */
  current: { readonly id: string; readonly leaseEndsAt: number } | undefined;
  busy: boolean;
  again: boolean;
}

export interface DeskStreamsOptions {
  readonly desk: HumanDesk;
  readonly types: readonly TaskType[];
  readonly leaseMs: number;
  readonly clock: () => number;
  readonly onError: (err: unknown) => void;
}

export class DeskStreams {
  private readonly streams = new Set<Stream>();
  private readonly timers: NodeJS.Timeout[];
  private readonly stopListening: () => void;

  constructor(private readonly options: DeskStreamsOptions) {
    this.stopListening = options.desk.onAvailable(() => this.offerAll());
    this.timers = [setInterval(() => this.offerAll(), RECHECK_MS), setInterval(() => this.renewPresence(), PRESENCE_RENEW_MS)];
    for (const timer of this.timers) timer.unref();
  }

  /** Starts a stream on `res` (headers already written) for `operator`. */
  open(operator: string, res: ServerResponse): void {
    const stream: Stream = { operator, res, current: undefined, busy: false, again: false };
    this.streams.add(stream);
    res.on('close', () => void this.closed(stream));
    void this.options.desk.present(operator, this.options.clock() + PRESENCE_MS).catch(this.options.onError);
    this.send(stream, 'idle', {});
    void this.offer(stream);
  }

  /** Offers `operator`'s streams their next task at once (after an answer or a skip). */
  nudge(operator: string): void {
    for (const stream of this.streams) if (stream.operator === operator) void this.offer(stream);
  }

  /** Operators with a solve view open on this node. */
  operators(): string[] {
    return [...new Set([...this.streams].map((s) => s.operator))];
  }

  close(): void {
    this.stopListening();
    for (const timer of this.timers) clearInterval(timer);
    for (const stream of this.streams) stream.res.end();
  }

  private offerAll(): void {
    for (const stream of this.streams) void this.offer(stream);
  }

  private async offer(stream: Stream): Promise<void> {
    if (stream.busy) {
      stream.again = true;
      return;
    }
    stream.busy = true;
    try {
      const { desk, types, leaseMs, clock } = this.options;
      const now = clock();
      // The task the operator holds, or the next one: an operator holds one at a time.
      const item = await desk.take(stream.operator, types, now, leaseMs);
      // Closed while taking: what was just taken comes back when its lease runs out.
      if (!this.streams.has(stream)) return;
      if (item && item.taskId !== stream.current?.id) {
        // Another of the operator's views may have taken it: its lease end is the same for both.
        const leaseEndsAt = this.leaseEndOf(stream.operator, item.taskId) ?? now + leaseMs;
        stream.current = { id: item.taskId, leaseEndsAt };
        this.send(stream, 'task', cardOf(item.taskId, item.spec, leaseEndsAt, item.deadlineAt, now));
      } else if (!item && stream.current) {
        stream.current = undefined;
        this.send(stream, 'idle', {});
      }
    } catch (err) {
      this.options.onError(err);
    } finally {
      stream.busy = false;
      if (stream.again) {
        stream.again = false;
        void this.offer(stream);
      }
    }
  }

  private leaseEndOf(operator: string, taskId: string): number | undefined {
    for (const stream of this.streams) if (stream.operator === operator && stream.current?.id === taskId) return stream.current.leaseEndsAt;
    return undefined;
  }

  private renewPresence(): void {
    const until = this.options.clock() + PRESENCE_MS;
    for (const operator of this.operators()) void this.options.desk.present(operator, until).catch(this.options.onError);
    for (const stream of this.streams) stream.res.write(': still here\n\n');
  }

  private async closed(stream: Stream): Promise<void> {
    this.streams.delete(stream);
    if (this.operators().includes(stream.operator)) return;
    // The operator's last view closed: they are offline. What they held stays theirs until its
    // lease runs out, so that a reload shows the same task; then it goes to someone else.
    try {
      await this.options.desk.absent(stream.operator);
    } catch (err) {
      this.options.onError(err);
    }
  }

  private send(stream: Stream, event: string, data: unknown): void {
    stream.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
