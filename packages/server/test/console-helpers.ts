/** Test helpers for the console: a logged-in operator over HTTP, and the solve view's event stream. */
import { createOperator, type OperatorRole } from '../src/index.js';
import type { Storage } from '../src/storage/types.js';

/** An operator's HTTP session with the console, as the browser holds it: the cookie and the CSRF token. */
export class OperatorSession {
  private constructor(
    readonly consoleUrl: string,
    readonly name: string,
    readonly cookie: string,
    readonly csrf: string,
  ) {}

  /** Creates the operator in `storage` and logs in. */
  static async create(consoleUrl: string, storage: Storage, name: string, role: OperatorRole = 'solver'): Promise<OperatorSession> {
    const created = await createOperator(storage, name, role);
    if (!created) throw new Error(`operator ${name} exists`);
    return OperatorSession.login(consoleUrl, name, created.password);
  }

  static async login(consoleUrl: string, name: string, password: string): Promise<OperatorSession> {
    const res = await fetch(`${consoleUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { csrf } = (await res.json()) as { csrf: string };
    return new OperatorSession(consoleUrl, name, cookie, csrf);
  }

  get(path: string): Promise<Response> {
    return fetch(`${this.consoleUrl}${path}`, { headers: { cookie: this.cookie } });
  }

  post(path: string, body: unknown = {}, { csrf = true } = {}): Promise<Response> {
    return fetch(`${this.consoleUrl}${path}`, {
      method: 'POST',
      headers: { cookie: this.cookie, 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': this.csrf } : {}) },
      body: JSON.stringify(body),
    });
  }

  async json<T>(path: string): Promise<T> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Opens the solve view's event stream; the operator is online while it is open. */
  async openDesk(): Promise<DeskStream> {
    const abort = new AbortController();
    const res = await fetch(`${this.consoleUrl}/api/desk/stream`, { headers: { cookie: this.cookie }, signal: abort.signal });
    if (res.status !== 200 || !res.body) throw new Error(`stream refused: ${res.status}`);
    return new DeskStream(res.body, abort);
  }
}

export interface TaskEvent {
  readonly id: string;
  readonly type: string;
  readonly instructions?: string;
  readonly hints?: Record<string, unknown>;
  readonly images: number;
  readonly leaseEndsAt: number;
}

/** The server-sent events of one solve view. */
export class DeskStream {
  private buffer = '';
  private readonly events: { event: string; data: unknown }[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly abort: AbortController,
  ) {
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body) {
          this.buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = this.buffer.indexOf('\n\n')) >= 0) {
            const block = this.buffer.slice(0, end);
            this.buffer = this.buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) this.events.push({ event, data: JSON.parse(data) });
            this.wake?.();
          }
        }
      } catch {
        // aborted
      }
      this.ended = true;
      this.wake?.();
    })();
  }

  /** The next `task` event (skipping `idle` ones), or fails after `timeoutMs`. */
  async nextTask(timeoutMs = 5000): Promise<TaskEvent> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.shift();
      if (found?.event === 'task') return found.data as TaskEvent;
      if (found) continue;
      if (this.ended) throw new Error('the stream ended');
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no task within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}
