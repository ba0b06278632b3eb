/**
 * The Solvebox client: typed helpers per captcha type over the in.php / res.php protocol, with the
 * protocol's retry rules taken from the error catalog's retry classes.
 */
import { IDEMPOTENCY_PARAM, MAX_WAIT_SECONDS, WAIT_PARAM, catalogEntry, parseAnswer, type ParsedAnswer } from '@solvebox/protocol';
import { FixRequestError, TransportError, errorForCode, type SolveboxError } from './errors.js';
import type { ImageInput } from './images.js';
import { TaskLimiter } from './limiter.js';
import {
  DEFAULT_TIMEOUT_MS,
  FIRST_POLL_DELAY_MS,
  decodeAnswer,
  protocolType,
  taskParams,
  type AnswerOf,
  type ClearanceAnswer,
  type GeetestAnswer,
  type ImageHints,
  type ProxyInput,
  type TaskInput,
  type TaskKind,
} from './tasks.js';
import { Deadline } from './time.js';
import { exchange, type TransportOptions } from './transport.js';

export interface SolveboxOptions {
  /** The account's API key. It never appears in an error or a log. */
  readonly apiKey: string;
  /** @defaultValue 'http://127.0.0.1:8080' (a local Solvebox); CaptchaAI is 'https://ocr.captchaai.com', 2Captcha 'https://2captcha.com'. */
  readonly baseUrl?: string;
  /**
   * `v1`: `in.php` / `res.php`. `v2`: the JSON createTask API, for Solvebox, 2Captcha
   * (`https://api.2captcha.com`), Anti-Captcha (`https://api.anti-captcha.com`), CapMonster Cloud
   * and their clones. The same helpers, results, errors and retry rules either way; BLS, Cloudflare
   * challenge pages and several ids in one poll are v1 only. @defaultValue 'v1'
   */
  readonly protocol?: 'v1' | 'v2';
  /** @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Between polls of a task that is not ready. @defaultValue 5000 */
  readonly pollIntervalMs?: number;
  /** Before the first poll, for every type; by default per type: 5 s images, 15 s tokens, 20 s Cloudflare challenge. */
  readonly firstPollDelayMs?: number;
  /** Overall time per call; by default 180 s for images, 360 s for tokens, 60 s for other calls. */
  readonly timeoutMs?: number;
  /** Per HTTP request. @defaultValue 30000 */
  readonly requestTimeoutMs?: number;
  /** Retries of server errors (retry-later codes) and transport failures per request. @defaultValue 5 */
  readonly retries?: number;
  /**
   * First backoff delay; it doubles per retry, with ±20 % jitter. By default the catalog's delay of
   * the code (10 s for server errors: 10, 20, 40, 80, 160 s), and 5 s for transport failures.
   */
  readonly retryBaseDelayMs?: number;
  /** How long a submit waits for a free thread (ERROR_ZERO_BALANCE) in all. @defaultValue 120000 */
  readonly threadWaitMs?: number;
  /** Between submit attempts while waiting for a thread, unless one of this client's tasks ends first. @defaultValue 5000 */
  readonly threadWaitIntervalMs?: number;
  /** When banned (IP_BANNED, ERROR: 100x): `fail` at once, or `wait` the ban out within the deadline. @defaultValue 'fail' */
  readonly onBan?: 'fail' | 'wait';
  /** How long `onBan: 'wait'` waits; by default the catalog's length of the ban (5 minutes for IP_BANNED). */
  readonly banWaitMs?: number;
  /** Fresh tasks to submit after ERROR_CAPTCHA_UNSOLVABLE; the failed task is never polled again. @defaultValue 0 */
  readonly resubmitUnsolvable?: number;
  /** Unfinished solves at once: the account's threads, or `auto` to learn them. @defaultValue 'auto' */
  readonly concurrency?: number | 'auto';
  /**
   * May an ambiguous submit (sent, no answer) be repeated with the same idempotency key? `auto`:
   * once the server has said it honours keys (Solvebox does; CaptchaAI and 2Captcha do not).
   * @defaultValue 'auto'
   */
  readonly idempotentSubmits?: boolean | 'auto';
  /**
   * Long-poll (`wait=N`) instead of polling every `pollIntervalMs`: `auto` once the server has
   * advertised it (Solvebox does; CaptchaAI and 2Captcha do not, and are polled as usual). A
   * long-poll answers as soon as the task ends, and starts without the first-poll delay.
   * @defaultValue 'auto'
   */
  readonly longPoll?: boolean | 'auto';
  readonly onProgress?: (event: ProgressEvent) => void;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | { readonly phase: 'submitting'; readonly elapsedMs: number }
  | { readonly phase: 'submitted'; readonly taskId: string; readonly elapsedMs: number }
  | { readonly phase: 'waiting-for-thread'; readonly elapsedMs: number }
  | { readonly phase: 'retrying'; readonly code: string; readonly delayMs: number; readonly elapsedMs: number }
  | { readonly phase: 'polling'; readonly taskId: string; readonly polls: number; readonly elapsedMs: number }
  | { readonly phase: 'resubmitting'; readonly failedTaskId: string; readonly code: string; readonly elapsedMs: number };

export interface SolveResult<K extends TaskKind> {
  readonly taskId: string;
  readonly answer: AnswerOf[K];
  readonly elapsedMs: number;
  /** Tasks submitted for this answer: more than 1 after resubmits of unsolvable tasks. */
  readonly tasks: number;
}

/** A task's raw answer: the `request` value and the other fields of the JSON answer. */
export interface RawAnswer {
  readonly value: unknown;
  readonly extra: Readonly<Record<string, unknown>>;
}

export type ResultState =
  | ({ readonly status: 'ready' } & RawAnswer)
  | { readonly status: 'pending' }
  | { readonly status: 'failed'; readonly error: SolveboxError };

export interface WaitOptions extends CallOptions {
  /** Which type the task is, for its first-poll delay. */
  readonly kind?: TaskKind;
  /** Skip or shorten the first-poll delay (for a task submitted a while ago). */
  readonly firstPollDelayMs?: number;
  /** Poll with `get2`, so that the answer's `extra.price` says what the task cost (the JSON API's `cost`). */
  readonly withPrice?: boolean;
}

export interface SubmitOptions extends CallOptions {
  /**
   * The submit's idempotency key; by default a fresh one per call. A caller that may submit the
   * same task again after a crash (a relay) passes the key it recorded before the first try, so
   * that a server that honours keys answers the first task's id instead of starting a second.
   */
  readonly idempotencyKey?: string;
}

const DEFAULTS = {
  baseUrl: 'http://127.0.0.1:8080',
  pollIntervalMs: 5_000,
  requestTimeoutMs: 30_000,
  callTimeoutMs: 60_000,
  retries: 5,
  transportBaseDelayMs: 5_000,
  threadWaitMs: 120_000,
  threadWaitIntervalMs: 5_000,
};

/** A long-poll's wait ends this long before its request would time out. */
const LONG_POLL_MARGIN_MS = 5_000;

const OPTION_NAMES = new Set([
  'apiKey',
  'baseUrl',
  'protocol',
  'fetch',
  'pollIntervalMs',
  'firstPollDelayMs',
  'timeoutMs',
  'requestTimeoutMs',
  'retries',
  'retryBaseDelayMs',
  'threadWaitMs',
  'threadWaitIntervalMs',
  'onBan',
  'banWaitMs',
  'resubmitUnsolvable',
  'concurrency',
  'idempotentSubmits',
  'longPoll',
  'onProgress',
]);

type Answer = Exclude<ParsedAnswer, { kind: 'garbled' }>;

/** The error for a code answer, with the service's error_text when it sent one. */
function codeError(answer: Extract<Answer, { kind: 'code' }>, endpoint: 'in.php' | 'res.php', deadline: Deadline): SolveboxError {
  return errorForCode(answer.code, deadline.context({ endpoint, ...(answer.errorText ? { errorText: answer.errorText } : {}) }));
}

export class Solvebox {
  readonly #options: SolveboxOptions;
  readonly #transport: TransportOptions;
  readonly #limiter: TaskLimiter;
  /** Learned from the answers: this server honours idempotency keys. */
  #serverHonoursIdempotency = false;
  /** Learned from the answers: the longest long-poll wait this server offers. */
  #serverLongPollSeconds: number | undefined;

  constructor(options: SolveboxOptions) {
    const unknown = Object.keys(options ?? {}).filter((name) => !OPTION_NAMES.has(name));
    if (unknown.length > 0) throw new TypeError(`unknown Solvebox options: ${unknown.join(', ')}`);
    if (typeof options?.apiKey !== 'string' || options.apiKey === '') throw new TypeError('apiKey is required');
    // The global fetch must be called on globalThis; an injected one is used as given.
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (typeof fetchImpl !== 'function') throw new TypeError('no fetch: pass options.fetch');
    this.#options = options;
    this.#transport = {
      baseUrl: (options.baseUrl ?? DEFAULTS.baseUrl).replace(/\/+$/, ''),
      fetch: fetchImpl,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      secret: options.apiKey,
      protocol: options.protocol ?? 'v1',
    };
    this.#limiter = new TaskLimiter(options.concurrency ?? 'auto');
  }

  // ---- typed helpers ----------------------------------------------------------------------------

  /** A normal image captcha: bytes, an ArrayBuffer, a Blob, or a file path (Node). */
  async image(image: ImageInput, hints: ImageHints = {}, options?: CallOptions): Promise<string> {
    return (await this.solve({ type: 'image', image, hints }, options)).answer;
  }

  async recaptchaV2(params: Omit<Extract<TaskInput, { type: 'recaptchaV2' }>, 'type'>, options?: CallOptions): Promise<string> {
    return (await this.solve({ type: 'recaptchaV2', ...params }, options)).answer;
  }

  async recaptchaV3(params: Omit<Extract<TaskInput, { type: 'recaptchaV3' }>, 'type'>, options?: CallOptions): Promise<string> {
    return (await this.solve({ type: 'recaptchaV3', ...params }, options)).answer;
  }

  async turnstile(params: Omit<Extract<TaskInput, { type: 'turnstile' }>, 'type'>, options?: CallOptions): Promise<string> {
    return (await this.solve({ type: 'turnstile', ...params }, options)).answer;
  }

  /** The `cf_clearance` cookie and the user agent it is bound to; use both through the same proxy. */
  async cloudflareChallenge(
    params: { pageurl: string; proxy: ProxyInput; userAgent?: string; pingback?: string },
    options?: CallOptions,
  ): Promise<ClearanceAnswer> {
    return (await this.solve({ type: 'cloudflareChallenge', ...params }, options)).answer;
  }

  async geetest(params: Omit<Extract<TaskInput, { type: 'geetest' }>, 'type'>, options?: CallOptions): Promise<GeetestAnswer> {
    return (await this.solve({ type: 'geetest', ...params }, options)).answer;
  }

  /** BLS: the nine cells left to right, top to bottom; answers the cells (1-9) to select. */
  async bls(instructions: string, cells: readonly ImageInput[], options?: CallOptions): Promise<number[]> {
    return (await this.solve({ type: 'bls', instructions, cells }, options)).answer;
  }

  async hcaptcha(params: Omit<Extract<TaskInput, { type: 'hcaptcha' }>, 'type'>, options?: CallOptions): Promise<string> {
    return (await this.solve({ type: 'hcaptcha', ...params }, options)).answer;
  }

  async funcaptcha(params: Omit<Extract<TaskInput, { type: 'funcaptcha' }>, 'type'>, options?: CallOptions): Promise<string> {
    return (await this.solve({ type: 'funcaptcha', ...params }, options)).answer;
  }

  /** GeeTest v4: the fields its `validate` call wants (`captcha_id`, `lot_number`, `pass_token`, `gen_time`, `captcha_output`). */
  async geetestV4(params: Omit<Extract<TaskInput, { type: 'geetestV4' }>, 'type'>, options?: CallOptions): Promise<Readonly<Record<string, string>>> {
    return (await this.solve({ type: 'geetestV4', ...params }, options)).answer;
  }

  /**
   * Any other widget of the v1 method list (`keycaptcha`, `capy`, `lemin`, `amazon_waf`, `mt_captcha`,
   * `cutcaptcha`, `friendly_captcha`, `tencent`, `atb_captcha`, `datadome`, `cybersiara`, `prosopo`,
   * `captchafox`), with its parameters by their v1 names: a token, or the vendor's object.
   */
  async widget(task: Omit<Extract<TaskInput, { type: 'widget' }>, 'type'>, options?: CallOptions): Promise<string | Readonly<Record<string, string>>> {
    return (await this.solve({ type: 'widget', ...task }, options)).answer;
  }

  /** A grid to click: the cells, numbered from 1 left to right, top to bottom (empty when none match and `canSkip`). */
  async grid(image: ImageInput, params: Omit<Extract<TaskInput, { type: 'grid' }>, 'type' | 'image'> = {}, options?: CallOptions): Promise<number[]> {
    return (await this.solve({ type: 'grid', image, ...params }, options)).answer;
  }

  /** Points to click on an image, in its pixels from the top left. */
  async coordinates(image: ImageInput, instructions?: string, options?: CallOptions): Promise<{ x: number; y: number }[]> {
    return (await this.solve({ type: 'coordinates', image, ...(instructions === undefined ? {} : { instructions }) }, options)).answer;
  }

  /** An image to turn upright: the angle in degrees, clockwise (`angle`: degrees per step of the widget). */
  async rotate(image: ImageInput, angle?: number, options?: CallOptions): Promise<number> {
    return (await this.solve({ type: 'rotate', image, ...(angle === undefined ? {} : { angle }) }, options)).answer;
  }

  /** A question in text ("If tomorrow is Saturday, what day is today?"). */
  async textQuestion(question: string, lang?: string, options?: CallOptions): Promise<string> {
    return (await this.solve({ type: 'textQuestion', question, ...(lang === undefined ? {} : { lang }) }, options)).answer;
  }

  /** A spoken captcha (MP3 bytes or a file path): the words or digits said. */
  async audio(audio: ImageInput, lang: Extract<TaskInput, { type: 'audio' }>['lang'], options?: CallOptions): Promise<string> {
    return (await this.solve({ type: 'audio', audio, lang }, options)).answer;
  }

  /**
   * Submits a task and waits for its answer: waits for a free slot of the concurrency limiter,
   * submits (retrying what is safe to retry), polls, and resubmits unsolvable tasks if configured.
   */
  async solve<K extends TaskKind>(task: TaskInput & { type: K }, options: CallOptions = {}): Promise<SolveResult<K>> {
    const type = protocolType(task.type);
    const deadline = new Deadline(options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS[type], options.signal);
    const progress = this.#progress(options);
    const params = await taskParams(task);
    const release = await this.#limiter.acquire(deadline);
    try {
      for (let tasks = 1; ; tasks++) {
        progress({ phase: 'submitting', elapsedMs: deadline.elapsedMs });
        const taskId = await this.#submit(params, deadline, progress);
        this.#limiter.taskAccepted();
        try {
          progress({ phase: 'submitted', taskId, elapsedMs: deadline.elapsedMs });
          const raw = await this.#poll(taskId, deadline, progress, this.#options.firstPollDelayMs ?? FIRST_POLL_DELAY_MS[type]);
          return { taskId, answer: decodeAnswer(task.type, raw.value, raw.extra, task), elapsedMs: deadline.elapsedMs, tasks };
        } catch (err) {
          const resubmit =
            err instanceof Error && (err as SolveboxError).code === 'ERROR_CAPTCHA_UNSOLVABLE' && tasks <= (this.#options.resubmitUnsolvable ?? 0);
          if (!resubmit) throw err;
          progress({ phase: 'resubmitting', failedTaskId: taskId, code: 'ERROR_CAPTCHA_UNSOLVABLE', elapsedMs: deadline.elapsedMs });
          deadline.taskId = undefined;
        } finally {
          this.#limiter.taskEnded();
        }
      }
    } finally {
      release();
    }
  }

  // ---- lower-level calls ------------------------------------------------------------------------

  /** Submits a task and returns its id, without waiting for the answer (and outside the limiter). */
  async submit(task: TaskInput, options: SubmitOptions = {}): Promise<string> {
    const deadline = new Deadline(options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULTS.callTimeoutMs, options.signal);
    return this.#submit(await taskParams(task), deadline, this.#progress(options), options.idempotencyKey);
  }

  /** One poll: the answer if ready, `pending` if not; failures throw. */
  async getResult(id: string | number, options: CallOptions = {}): Promise<Exclude<ResultState, { status: 'failed' }>> {
    const deadline = this.#callDeadline(options);
    deadline.taskId = String(id);
    const answer = await this.#request('res.php', { action: 'get', id: String(id) }, deadline);
    if (answer.kind === 'ok') return { status: 'ready', value: answer.value, extra: answer.extra };
    if (answer.kind === 'value') return { status: 'ready', value: answer.value, extra: {} };
    if (catalogEntry(answer.code)?.retry === 'not-ready') return { status: 'pending' };
    throw codeError(answer, 'res.php', deadline);
  }

  /** Polls until the task has an answer, after the first-poll delay; stops at once on abort or deadline. */
  async waitForResult(id: string | number, options: WaitOptions = {}): Promise<RawAnswer> {
    const kind = options.kind;
    const type = kind === undefined ? undefined : protocolType(kind);
    const deadline = new Deadline(options.timeoutMs ?? this.#options.timeoutMs ?? (type ? DEFAULT_TIMEOUT_MS[type] : DEFAULTS.callTimeoutMs), options.signal);
    const firstPoll = options.firstPollDelayMs ?? this.#options.firstPollDelayMs ?? (type ? FIRST_POLL_DELAY_MS[type] : 0);
    return this.#poll(String(id), deadline, this.#progress(options), firstPoll, options.withPrice ? 'get2' : 'get');
  }

  /**
   * Several tasks in one request (`ids=`). Answers that themselves contain `|` make the joined
   * answer ambiguous; then each task is read on its own.
   */
  async getResults(ids: readonly (string | number)[], options: CallOptions = {}): Promise<Map<string, ResultState>> {
    const list = ids.map(String);
    const deadline = this.#callDeadline(options);
    const results = new Map<string, ResultState>();
    if (list.length === 0) return results;
    // The JSON API reads one task per call.
    if (this.#transport.protocol === 'v2') {
      for (const id of list) results.set(id, await this.#resultState(id, options));
      return results;
    }
    const answer = await this.#request('res.php', { action: 'get', ids: list.join(',') }, deadline);
    if (answer.kind === 'code') throw codeError(answer, 'res.php', deadline);
    const parts = String(answer.value).split('|');
    if (parts.length !== list.length) {
      for (const id of list) results.set(id, await this.#resultState(id, options));
      return results;
    }
    for (const [i, id] of list.entries()) results.set(id, this.#partState(id, parts[i]!, deadline));
    return results;
  }

  /** The account balance. */
  async balance(options: CallOptions = {}): Promise<number> {
    const deadline = this.#callDeadline(options);
    const answer = await this.#request('res.php', { action: 'getbalance' }, deadline);
    if (answer.kind === 'code') throw codeError(answer, 'res.php', deadline);
    const balance = Number(answer.value);
    if (!Number.isFinite(balance)) throw new TransportError(`the balance is not a number`, false, deadline.context({ endpoint: 'res.php' }));
    return balance;
  }

  /** Reports an answer as correct or wrong. A second report of the same task throws ERROR_DUPLICATE_REPORT. */
  async report(id: string | number, verdict: 'good' | 'bad', options: CallOptions = {}): Promise<void> {
    const deadline = this.#callDeadline(options);
    deadline.taskId = String(id);
    const answer = await this.#request('res.php', { action: verdict === 'good' ? 'reportgood' : 'reportbad', id: String(id) }, deadline);
    if (answer.kind === 'code') throw codeError(answer, 'res.php', deadline);
  }

  // ---- the policy ---------------------------------------------------------------------------------

  #callDeadline(options: CallOptions): Deadline {
    return new Deadline(options.timeoutMs ?? this.#options.timeoutMs ?? DEFAULTS.callTimeoutMs, options.signal);
  }

  #progress(options: CallOptions): (event: ProgressEvent) => void {
    const listeners = [this.#options.onProgress, options.onProgress].filter((l): l is (e: ProgressEvent) => void => l !== undefined);
    return (event) => {
      for (const listener of listeners) listener(event);
    };
  }

  /** A submit: waits for a thread on ERROR_ZERO_BALANCE (bounded); other codes throw. */
  async #submit(
    taskParams: Record<string, string>,
    deadline: Deadline,
    progress: (e: ProgressEvent) => void,
    idempotencyKey: string = globalThis.crypto.randomUUID(),
  ): Promise<string> {
    // One key per task, kept across retries of this submit: a replay answers the same task.
    const params = { ...taskParams, [IDEMPOTENCY_PARAM]: idempotencyKey };
    const threadWaitMs = this.#options.threadWaitMs ?? DEFAULTS.threadWaitMs;
    let waitingSince: number | undefined;
    for (;;) {
      const answer = await this.#request('in.php', params, deadline, true, progress);
      if (answer.kind === 'ok' && (typeof answer.value === 'string' || typeof answer.value === 'number') && String(answer.value).trim() !== '') {
        const taskId = String(answer.value).trim();
        deadline.taskId = taskId;
        return taskId;
      }
      if (answer.kind !== 'code') throw new TransportError('in.php answered without a task id', true, deadline.context({ endpoint: 'in.php' }));
      if (catalogEntry(answer.code)?.retry !== 'wait-for-thread') throw codeError(answer, 'in.php', deadline);
      this.#limiter.noFreeThread();
      waitingSince ??= deadline.elapsedMs;
      // The wait for a thread has its own bound: the code's own error class says so.
      if (deadline.elapsedMs - waitingSince >= threadWaitMs) throw codeError(answer, 'in.php', deadline);
      progress({ phase: 'waiting-for-thread', elapsedMs: deadline.elapsedMs });
      await this.#limiter.waitForTaskEnd(this.#options.threadWaitIntervalMs ?? DEFAULTS.threadWaitIntervalMs, deadline);
      deadline.check();
    }
  }

  async #poll(
    taskId: string,
    deadline: Deadline,
    progress: (e: ProgressEvent) => void,
    firstPollDelayMs: number,
    action: 'get' | 'get2' = 'get',
  ): Promise<RawAnswer> {
    deadline.taskId = taskId;
    if (this.#longPollMs() === 0) await deadline.sleep(firstPollDelayMs);
    for (let polls = 1; ; polls++) {
      // Re-read each time: the server may have advertised long-polls on the submit's answer.
      const waitMs = Math.min(this.#longPollMs(), Math.floor(deadline.remainingMs / 1000) * 1000);
      const params: Record<string, string> = { action, id: taskId };
      if (waitMs >= 1000) params[WAIT_PARAM] = String(waitMs / 1000);
      const sentAt = deadline.elapsedMs;
      const answer = await this.#request('res.php', params, deadline, false, progress);
      progress({ phase: 'polling', taskId, polls, elapsedMs: deadline.elapsedMs });
      if (answer.kind === 'ok') return { value: answer.value, extra: answer.extra };
      if (answer.kind === 'value') return { value: answer.value, extra: {} };
      if (catalogEntry(answer.code)?.retry !== 'not-ready') throw codeError(answer, 'res.php', deadline);
      // A long-poll that held its wait may be repeated at once; one answered early (a proxy in
      // between cut it short) falls back to the polling interval, so that it never spins.
      const held = params[WAIT_PARAM] !== undefined && deadline.elapsedMs - sentAt >= waitMs / 2;
      if (!held) await deadline.sleep(this.#options.pollIntervalMs ?? DEFAULTS.pollIntervalMs);
    }
  }

  /** The long-poll wait to ask for, in ms: 0 when not long-polling; it ends well within the request timeout. */
  #longPollMs(): number {
    const setting = this.#options.longPoll ?? 'auto';
    const offered = this.#serverLongPollSeconds ?? (setting === true ? MAX_WAIT_SECONDS : undefined);
    if (setting === false || offered === undefined) return 0;
    const requestTimeoutMs = this.#options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    const seconds = Math.min(offered, Math.floor((requestTimeoutMs - LONG_POLL_MARGIN_MS) / 1000));
    return seconds >= 1 ? seconds * 1000 : 0;
  }

  /**
   * One request under the retry rules: transport failures and retry-later codes are retried with
   * backoff (a submit only when it provably did not arrive, or when the server honours its
   * idempotency key); bans fail fast or are waited out; every other answer is returned.
   */
  async #request(
    endpoint: 'in.php' | 'res.php',
    params: Readonly<Record<string, string>>,
    deadline: Deadline,
    isSubmit = false,
    progress: (e: ProgressEvent) => void = () => {},
  ): Promise<Answer> {
    const wire = { ...params, key: this.#options.apiKey, json: '1' };
    const retries = this.#options.retries ?? DEFAULTS.retries;
    let attempt = 0;
    for (;;) {
      let answer: Answer;
      try {
        const result = await exchange(this.#transport, endpoint, wire, deadline);
        if (result.idempotent) this.#serverHonoursIdempotency = true;
        if (result.longPollSeconds !== undefined) this.#serverLongPollSeconds = result.longPollSeconds;
        answer = result.answer;
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        const safe = !isSubmit || !err.ambiguous || this.#idempotentSubmits();
        if (!safe || attempt >= retries) throw err;
        const delayMs = this.#backoff(attempt++, DEFAULTS.transportBaseDelayMs);
        progress({ phase: 'retrying', code: err.code, delayMs, elapsedMs: deadline.elapsedMs });
        await deadline.sleep(delayMs);
        continue;
      }
      if (answer.kind !== 'code') return answer;
      deadline.lastCode = answer.code;
      const entry = catalogEntry(answer.code);
      if (entry?.retry !== 'retry-later') return answer;
      if (entry.ban) {
        // Backing off into a ban only prolongs it: wait it out in one go, or fail now.
        const banMs = this.#options.banWaitMs ?? entry.delayMs ?? 0;
        if ((this.#options.onBan ?? 'fail') === 'fail' || banMs > deadline.remainingMs) throw codeError(answer, endpoint, deadline);
        progress({ phase: 'retrying', code: answer.code, delayMs: banMs, elapsedMs: deadline.elapsedMs });
        await deadline.sleep(banMs);
        continue;
      }
      if (attempt >= retries) throw codeError(answer, endpoint, deadline);
      const delayMs = this.#backoff(attempt++, entry.delayMs ?? DEFAULTS.transportBaseDelayMs);
      progress({ phase: 'retrying', code: answer.code, delayMs, elapsedMs: deadline.elapsedMs });
      await deadline.sleep(delayMs);
    }
  }

  #idempotentSubmits(): boolean {
    const setting = this.#options.idempotentSubmits ?? 'auto';
    return setting === true || (setting === 'auto' && this.#serverHonoursIdempotency);
  }

  /** base × 2^attempt, ±20 % jitter so that many clients do not retry in step. */
  #backoff(attempt: number, catalogBaseMs: number): number {
    const base = this.#options.retryBaseDelayMs ?? catalogBaseMs;
    return Math.round(base * 2 ** attempt * (0.8 + Math.random() * 0.4));
  }

  async #resultState(id: string, options: CallOptions): Promise<ResultState> {
    try {
      return await this.getResult(id, options);
    } catch (err) {
      if (err instanceof FixRequestError || (err as SolveboxError).kind === 'task-failed' || (err as SolveboxError).kind === 'unknown-code') {
        return { status: 'failed', error: err as SolveboxError };
      }
      throw err;
    }
  }

  #partState(id: string, part: string, deadline: Deadline): ResultState {
    const parsed = parseAnswer(part);
    if (parsed.kind === 'code') {
      if (catalogEntry(parsed.code)?.retry === 'not-ready') return { status: 'pending' };
      return { status: 'failed', error: errorForCode(parsed.code, { ...deadline.context({ endpoint: 'res.php' }), taskId: id }) };
    }
    return { status: 'ready', value: part, extra: {} };
  }
}
