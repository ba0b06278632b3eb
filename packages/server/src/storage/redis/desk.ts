/**
 * The human desk on Redis (see ../desk.ts): every node's operators take from the same desk, and a
 * verdict reaches the solver waiting for it on whichever node posted the task, by pub/sub.
 */
import type { Redis } from 'ioredis';
import type { TaskType } from '@solvebox/protocol';
import { decodeJson, encodeJson } from '../codec.js';
import type { DeskCounts, DeskItem, DeskVerdict, HumanDesk } from '../desk.js';
import { Listeners } from '../shared.js';

/** What the desk needs of the storage's connection: its key prefix, scripts and commands. */
export interface DeskConnection {
  readonly prefix: string;
  script(name: 'desk-take' | 'desk-settle' | 'desk-release', keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  call<T>(what: string, body: (client: Redis) => Promise<T>): Promise<T>;
  /** A second connection for subscriptions, as Redis requires. */
  subscriber(): Redis;
}

interface StoredItem {
  readonly taskId: string;
  readonly spec: string;
  readonly postedAt: number;
  readonly deadlineAt: number;
}

export class RedisDesk implements HumanDesk {
  private readonly verdictListeners = new Listeners<[taskId: string, verdict: DeskVerdict]>();
  private readonly availableListeners = new Listeners<[]>();
  private readonly subscriber: Redis;

  constructor(private readonly redis: DeskConnection) {
    const p = redis.prefix;
    this.subscriber = redis.subscriber();
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === `${p}desk:available`) {
        this.availableListeners.emit();
        return;
      }
      let parsed: { taskId: string; verdict: DeskVerdict };
      try {
        parsed = JSON.parse(message, (key, v: unknown) => (key === 'solution' && typeof v === 'string' ? decodeJson(v) : v));
      } catch {
        return;
      }
      this.verdictListeners.emit(parsed.taskId, parsed.verdict);
    });
    void this.subscriber.subscribe(`${p}desk:verdicts`, `${p}desk:available`).catch(() => {});
  }

  async post(item: DeskItem): Promise<void> {
    const stored: StoredItem = { taskId: item.taskId, spec: encodeJson(item.spec), postedAt: item.postedAt, deadlineAt: item.deadlineAt };
    await this.redis.call('post a task on the desk', (c) =>
      c
        .multi()
        .hset(this.key('items'), item.taskId, JSON.stringify(stored))
        .hset(this.key('meta'), item.taskId, `${item.spec.type}|${item.deadlineAt}`)
        .zadd(this.key('order'), item.postedAt, item.taskId)
        .del(this.key(`hold:${item.taskId}`))
        .publish(this.key('available'), '1')
        .exec(),
    );
  }

  async withdraw(taskId: string): Promise<void> {
    await this.redis.call('take a task off the desk', (c) =>
      c
        .multi()
        .zrem(this.key('order'), taskId)
        .hdel(this.key('items'), taskId)
        .hdel(this.key('meta'), taskId)
        .del(this.key(`hold:${taskId}`), this.key(`offered:${taskId}`))
        .exec(),
    );
  }

  async take(operator: string, types: readonly TaskType[], now: number, leaseMs: number): Promise<DeskItem | undefined> {
    const found = await this.redis.script(
      'desk-take',
      [this.key('order'), this.key('items'), this.key('meta')],
      [this.redis.prefix, operator, now, leaseMs, types.join(',')],
    );
    return typeof found === 'string' ? itemOf(found) : undefined;
  }

  async held(operator: string, _now: number): Promise<DeskItem | undefined> {
    const found = await this.redis.call('read what an operator holds', async (c) => {
      const taskId = await c.get(this.key(`holder:${operator}`));
      if (!taskId || (await c.get(this.key(`hold:${taskId}`))) !== operator) return null;
      return c.hget(this.key('items'), taskId);
    });
    return found ? itemOf(found) : undefined;
  }

  async settle(taskId: string, verdict: DeskVerdict, _now: number): Promise<boolean> {
    const message = JSON.stringify({ taskId, verdict: verdict.kind === 'answer' ? { ...verdict, solution: encodeJson(verdict.solution) } : verdict });
    const done = await this.redis.script(
      'desk-settle',
      [this.key('order'), this.key('items'), this.key('meta'), this.key(`hold:${taskId}`)],
      [this.redis.prefix, taskId, verdict.operator, message],
    );
    return done === 1;
  }

  async release(taskId: string, operator: string): Promise<boolean> {
    const done = await this.redis.script('desk-release', [this.key(`hold:${taskId}`), this.key(`holder:${operator}`)], [this.redis.prefix, operator]);
    return done === 1;
  }

  onVerdict(listener: (taskId: string, verdict: DeskVerdict) => void): () => void {
    return this.verdictListeners.add(listener);
  }

  onAvailable(listener: () => void): () => void {
    return this.availableListeners.add(listener);
  }

  async counts(now: number): Promise<DeskCounts> {
    return this.redis.call('count the desk', async (c) => {
      const meta = await c.hgetall(this.key('meta'));
      const ids = Object.keys(meta);
      const holds = ids.length === 0 ? [] : await c.mget(...ids.map((id) => this.key(`hold:${id}`)));
      const waiting: Partial<Record<TaskType, number>> = {};
      let leased = 0;
      ids.forEach((id, i) => {
        const [type, deadline] = (meta[id] ?? '').split('|') as [TaskType, string];
        if (Number(deadline) <= now) return;
        if (holds[i]) leased++;
        else waiting[type] = (waiting[type] ?? 0) + 1;
      });
      return { waiting, leased };
    });
  }

  async present(operator: string, until: number): Promise<void> {
    await this.redis.call('mark an operator online', (c) => c.zadd(this.key('online'), until, operator));
  }

  async absent(operator: string): Promise<void> {
    await this.redis.call('mark an operator offline', (c) => c.zrem(this.key('online'), operator));
  }

  async online(now: number): Promise<string[]> {
    return this.redis.call('list operators online', async (c) => {
      await c.zremrangebyscore(this.key('online'), '-inf', now);
      return c.zrange(this.key('online'), '0', '-1');
    });
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }

  private key(name: string): string {
    return `${this.redis.prefix}desk:${name}`;
  }
}

function itemOf(found: string): DeskItem {
  const stored = JSON.parse(found) as StoredItem;
  return { taskId: stored.taskId, spec: decodeJson(stored.spec), postedAt: stored.postedAt, deadlineAt: stored.deadlineAt };
}
