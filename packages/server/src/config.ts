/**
 * Server configuration: one table of options, read from defaults, then SOLVEBOX_* environment
 * variables, then command-line flags (later wins). The same table drives the CLI's flags and
 * docs/configuration.md. The result is validated once and frozen.
 */
import { DEFAULT_MIN_CONFIDENCE, DEFAULT_SECOND_LOOK } from '@solvebox/ocr/defaults';
import { TASK_TYPES, type TaskType } from '@solvebox/protocol';
import { DEFAULT_LEASE_MS } from './solving/runner.js';

/** A solver backend: `relay` hands tasks to every upstream of `--upstreams` that serves the type, `relay:NAME` to that one only. */
export type SolverBackend = 'ocr' | 'human' | 'sandbox' | 'none' | 'relay' | `relay:${string}`;
/** The backends by kind (`relay:NAME` is of kind `relay`). */
export const SOLVER_BACKENDS: readonly BackendKind[] = ['ocr', 'human', 'sandbox', 'relay', 'none'];
export type BackendKind = 'ocr' | 'human' | 'sandbox' | 'none' | 'relay';

export function backendKind(backend: SolverBackend): BackendKind {
  return backend.startsWith('relay:') ? 'relay' : (backend as BackendKind);
}

/** A backend name as written in --solvers, --fallbacks or a worker's --solvers list. */
export function parseBackend(flag: string, value: string): SolverBackend {
  const v = value.trim().toLowerCase();
  if (/^relay:[a-z0-9][a-z0-9_-]{0,31}$/.test(v)) return v as SolverBackend;
  return parseChoice(flag, v, SOLVER_BACKENDS);
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly storage: 'sqlite' | 'memory' | 'redis';
  readonly db: string;
  /** Where the state of a multi-process deployment lives (`storage: 'redis'`). */
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** Solve tasks in this process; off on API-only nodes whose tasks `solvebox worker` processes solve. */
  readonly runSolvers: boolean;
  /** How long a solver's lease on a task lasts unless renewed (a dead worker's tasks return after it). */
  readonly leaseMs: number;
  /** Tasks each solver works on at once in this process; 0 = the solver's own limit. */
  readonly concurrency: number;
  /** Whether to believe X-Forwarded-For: false, true, a hop count, or a list of proxy addresses. */
  readonly trustProxy: boolean | number | string;
  readonly jsonByDefault: boolean;
  /** Whose meanings v1 answers follow where CaptchaAI and 2Captcha disagree (docs/protocol.md, "Dialects"). */
  readonly dialect: 'captchaai' | '2captcha';
  readonly jsonIds: 'captchaai' | 'string';
  readonly imageMinBytes: number;
  readonly imageMaxBytes: number;
  readonly imageMaxSide: number;
  readonly bodyLimitBytes: number;
  readonly banFailures: number;
  readonly banWindowMs: number;
  readonly banMs: number;
  /** How long an API key's account is remembered between storage reads; 0 reads it every request. */
  readonly authCacheMs: number;
  /** Answer cached polls and in.php posts before the framework routes them (http/fast-poll.ts, fast-submit.ts). */
  readonly fastPaths: boolean;
  readonly imageDeadlineMs: number;
  readonly tokenDeadlineMs: number;
  readonly resultTtlMs: number;
  readonly badProxyTtlMs: number;
  readonly badPairTtlMs: number;
  readonly solverAttempts: number;
  readonly solverRetryDelayMs: number;
  readonly circuitFailures: number;
  readonly circuitCooldownMs: number;
  readonly solvers: Readonly<Record<TaskType, SolverBackend>>;
  /** Where a task goes, in order, when its solver declines it; empty (`none`) ends it with ERROR_CAPTCHA_UNSOLVABLE. */
  readonly fallbacks: Readonly<Record<TaskType, readonly SolverBackend[]>>;
  /** The upstream providers of the relay backend (a JSON file; docs/relay.md); empty: none. */
  readonly upstreams: string;
  /** OCR worker threads; 0 = one per CPU. */
  readonly ocrWorkers: number;
  /** A folder with an OCR model (ocr.onnx, ocr.json) to read with instead of the shipped one; empty: the shipped model. */
  readonly ocrModel: string;
  /** OCR readings less likely than this are declined (handed to the fallback, or unsolvable). */
  readonly ocrMinConfidence: number;
  /** OCR readings less likely than this get a second look with other preprocessing. */
  readonly ocrSecondLook: number;
  /** Price per solved task, in millionths of the balance unit. */
  readonly pricesMicros: Readonly<Record<TaskType, number>>;
  readonly sqliteBusyTimeoutMs: number;
  readonly sqliteSynchronous: 'normal' | 'full';
  readonly sweepIntervalMs: number;
  readonly pingback: boolean;
  /** Deliver pingbacks to loopback and private addresses too (off: such URLs are refused at submit). */
  readonly pingbackPrivate: boolean;
  readonly logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /** Serve the operators' console (and /metrics) on a listener of its own. */
  readonly console: boolean;
  readonly consoleHost: string;
  readonly consolePort: number;
  /** How long a console login lasts. */
  readonly consoleSessionMs: number;
  /** How long an operator holds a task before it goes back to the queue for others. */
  readonly operatorLeaseMs: number;
  /** How long a task waits for an operator before the human solver declines it; 0 = until its deadline. */
  readonly humanWaitMs: number;
  /** Confirmed image answers kept as samples for `solvebox ocr adapt`; 0 keeps none. */
  readonly samplesKeep: number;
  /** A bearer token that may read /metrics without a console login; empty: admin logins only. */
  readonly metricsToken: string;
}

/** One option: its flag, how it reads, its default and its documentation, said once. */
export interface OptionSpec {
  /** The flag name (`--name`); the environment variable is SOLVEBOX_NAME in upper snake case. */
  readonly flag: string;
  /** What the value is, for help: `--lease <seconds>`. */
  readonly hint: string;
  readonly default: string;
  readonly doc: string;
  /** Parses a value (the default, the environment's or the flag's) into the configuration. */
  apply(config: Mutable<ServerConfig>, value: string): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** The configuration fields whose values are of type T. */
type FieldOf<T> = { [K in keyof ServerConfig]: ServerConfig[K] extends T ? K : never }[keyof ServerConfig];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function parseNumber(flag: string, value: string, { integer, min, max }: { integer: boolean; min: number; max: number }): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new ConfigError(`--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function parseYesNo(flag: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`--${flag} must be 1 or 0, got "${value}"`);
}

function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value.trim().toLowerCase());
  if (found === undefined) throw new ConfigError(`--${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return found;
}

/** A type (or `*`) and its values, at least one. */
type PerTypePart = [type: string, values: [string, ...string[]]];

/**
 * `type=value,type=value` for per-task-type settings; `*=value` sets every type. With `list`, a
 * part without `=` adds a value to the type before it: `image=human,relay,*=none`.
 */
function perTypeParts(flag: string, value: string, list: boolean): PerTypePart[] {
  const parts: PerTypePart[] = [];
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const last = parts.at(-1);
    if (eq < 0 && list && last) {
      last[1].push(part);
      continue;
    }
    if (eq < 0) throw new ConfigError(`--${flag} takes type=value pairs separated by commas, got "${part}"`);
    parts.push([part.slice(0, eq).trim(), [part.slice(eq + 1).trim()]]);
  }
  return parts;
}

function assign<T>(flag: string, into: Record<TaskType, T>, type: string, parsed: T): void {
  if (type === '*') {
    for (const t of TASK_TYPES) into[t] = parsed;
  } else if ((TASK_TYPES as readonly string[]).includes(type)) {
    into[type as TaskType] = parsed;
  } else {
    throw new ConfigError(`--${flag}: unknown task type "${type}"; use one of ${TASK_TYPES.join(', ')} or *`);
  }
}

// ---- option constructors: the kind of an option is its parser ------------------------------------

function option<K extends keyof ServerConfig>(
  flag: string,
  key: K,
  hint: string,
  parse: (value: string) => ServerConfig[K],
  byDefault: string | number,
  doc: string,
): OptionSpec {
  return { flag, hint, default: String(byDefault), doc, apply: (config, value) => void (config[key] = parse(value) as Mutable<ServerConfig>[K]) };
}

/** Free text, taken as given. */
const text = (flag: string, key: FieldOf<string>, byDefault: string, doc: string): OptionSpec => option(flag, key, 'text', (v) => v, byDefault, doc);

/** A whole number within bounds. */
const count = (flag: string, key: FieldOf<number>, byDefault: number, doc: string, min = 0, max = 1e9, hint = 'count'): OptionSpec =>
  option(flag, key, hint, (v) => parseNumber(flag, v, { integer: true, min, max }), byDefault, doc);

/** A size in bytes. */
const bytes = (flag: string, key: FieldOf<number>, byDefault: number, doc: string, min = 0): OptionSpec => count(flag, key, byDefault, doc, min, 1e9, 'bytes');

/** Milliseconds, given as a whole number. */
const millis = (flag: string, key: FieldOf<number>, byDefault: number, doc: string, min = 0): OptionSpec =>
  count(flag, key, byDefault, doc, min, 1e9, 'milliseconds');

/** Seconds, decimals allowed, stored as milliseconds. */
const seconds = (flag: string, key: FieldOf<number>, byDefault: number, doc: string, { min = 0.001, max = 365 * 86400 } = {}): OptionSpec =>
  option(flag, key, 'seconds', (v) => Math.round(parseNumber(flag, v, { integer: false, min, max }) * 1000), byDefault, doc);

/** A probability from 0 to 1. */
const probability = (flag: string, key: FieldOf<number>, byDefault: number, doc: string): OptionSpec =>
  option(flag, key, 'probability', (v) => parseNumber(flag, v, { integer: false, min: 0, max: 1 }), byDefault, doc);

/** 1 or 0 (also true/false, yes/no, on/off). */
const yesNo = (flag: string, key: FieldOf<boolean>, byDefault: boolean, doc: string): OptionSpec =>
  option(flag, key, '1|0', (v) => parseYesNo(flag, v), byDefault ? '1' : '0', doc);

/** One of a fixed list of words. */
function choice<K extends keyof ServerConfig>(
  flag: string,
  key: K,
  choices: readonly (ServerConfig[K] & string)[],
  byDefault: ServerConfig[K] & string,
  doc: string,
): OptionSpec {
  return option(flag, key, choices.join('|'), (v) => parseChoice(flag, v, choices), byDefault, doc);
}

/**
 * `type=value` pairs, merged into the per-type table; with `list`, `type=value,value,...`. `parse`
 * turns a type's values into its entry.
 */
function perTypeOption<K extends FieldOf<Readonly<Record<TaskType, unknown>>>>(
  flag: string,
  key: K,
  parse: (values: [string, ...string[]]) => ServerConfig[K][TaskType],
  byDefault: string,
  doc: string,
  { list = false } = {},
): OptionSpec {
  return {
    flag,
    hint: list ? 'type=value[,value...],...' : 'type=value,...',
    default: byDefault,
    doc,
    apply: (config, value) => {
      const table = { ...config[key] } as Record<TaskType, ServerConfig[K][TaskType]>;
      for (const [type, values] of perTypeParts(flag, value, list)) assign(flag, table, type, parse(values));
      (config as Record<K, unknown>)[key] = table;
    },
  };
}

const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;

/** `false`, `true`, a hop count, or proxy addresses and CIDRs. */
function parseTrustProxy(value: string): boolean | number | string {
  const t = value.trim().toLowerCase();
  return t === 'false' || t === '0' || t === '' ? false : t === 'true' ? true : /^[0-9]+$/.test(t) ? Number(t) : value.trim();
}

export const OPTIONS: readonly OptionSpec[] = [
  text('host', 'host', '127.0.0.1', 'Address to listen on. Use 0.0.0.0 to accept other machines.'),
  count('port', 'port', 8080, 'Port to listen on; 0 picks a free one.', 0, 65535, 'port'),
  choice(
    'storage',
    'storage',
    ['sqlite', 'memory', 'redis'],
    'sqlite',
    'Where state lives: `sqlite` (the `--db` file), `redis` (the `--redis` server, shared by several nodes and workers) or `memory` (lost on exit; for experiments).',
  ),
  text(
    'db',
    'db',
    './data/solvebox.db',
    'SQLite database file; its folder is created if needed. Task images live beside it, in the folder FILE-images: copy or move the two together.',
  ),
  option(
    'redis',
    'redisUrl',
    'url',
    (v) => v.trim(),
    '',
    'Redis URL (`redis://[:password@]host:port/db`). Setting it means `--storage redis`: every API node and `solvebox worker` given the same URL shares accounts, tasks, bans and marks. See docs/deployment.md.',
  ),
  text(
    'redis-prefix',
    'redisPrefix',
    'solvebox:',
    'Prefix of every Redis key (the schema version follows it), so that one Redis can hold several deployments.',
  ),
  yesNo(
    'run-solvers',
    'runSolvers',
    true,
    'Solve tasks in this process. Set 0 on API-only nodes of a Redis deployment whose solving `solvebox worker` processes do.',
  ),
  count(
    'concurrency',
    'concurrency',
    0,
    "Tasks each solver works on at once in this process; 0 means the solver's own limit (OCR: one per worker thread; sandbox: 1000).",
    0,
    100_000,
  ),
  seconds(
    'lease',
    'leaseMs',
    DEFAULT_LEASE_MS / 1000,
    'Seconds a solver holds a task unless it renews the lease (it does, every third of that, while it works). A task whose worker died goes back to the queue this long after the last renewal.',
  ),
  option(
    'trust-proxy',
    'trustProxy',
    'false|true|hops|addresses',
    parseTrustProxy,
    'false',
    'Take the client IP (for bans) from X-Forwarded-For: `false`, `true`, a hop count, or comma-separated proxy addresses/CIDRs.',
  ),
  choice(
    'dialect',
    'dialect',
    ['captchaai', '2captcha'],
    'captchaai',
    "Where CaptchaAI and 2Captcha disagree, whose meanings v1 answers follow. `captchaai`: accounts have threads, and all busy answers ERROR_ZERO_BALANCE; prices are charged but the balance does not gate submits. `2captcha`: a balance below the task's price answers ERROR_ZERO_BALANCE, all threads busy ERROR_NO_SLOT_AVAILABLE, JSON ids are strings (unless `--json-ids` says otherwise), and 2Captcha's request limits apply (MAX_USER_TURN, `ERROR: 1001`, `ERROR: 1002`).",
  ),
  yesNo('json-default', 'jsonByDefault', false, 'Answer JSON when a request has no `json` parameter (2Captcha: 0; CaptchaAI documents 1).'),
  choice(
    'json-ids',
    'jsonIds',
    ['captchaai', 'string'],
    'captchaai',
    'Task ids in JSON in.php answers: `captchaai` sends a number for userrecaptcha and a string otherwise (as CaptchaAI does); `string` always sends a string (as 2Captcha does). Default: the dialect’s.',
  ),
  bytes('image-min-bytes', 'imageMinBytes', 100, 'Smaller images answer ERROR_ZERO_CAPTCHA_FILESIZE.'),
  bytes('image-max-bytes', 'imageMaxBytes', 102400, 'Larger images answer ERROR_TOO_BIG_CAPTCHA_FILESIZE.', 1),
  count(
    'image-max-side',
    'imageMaxSide',
    1000,
    'Images wider or taller than this many pixels answer ERROR_TOO_BIG_CAPTCHA_FILESIZE (so do decompression bombs, whatever their byte size).',
    16,
    4096,
    'pixels',
  ),
  bytes(
    'body-limit-bytes',
    'bodyLimitBytes',
    2097152,
    'Largest request body read at all (a BLS task carries nine images); larger bodies answer ERROR_TOO_BIG_CAPTCHA_FILESIZE.',
    1024,
  ),
  count('ban-failures', 'banFailures', 5, 'Failed authentications from one IP that trigger IP_BANNED.', 1),
  seconds('ban-window', 'banWindowMs', 60, 'Seconds within which those failures must fall.'),
  seconds('ban-duration', 'banMs', 300, 'Seconds an IP stays banned.'),
  seconds(
    'auth-cache',
    'authCacheMs',
    2,
    'Seconds an API key is remembered after a storage read, so that polls and submits skip that read. A key disabled with `solvebox keys` stops working within this time (at once for `getbalance` and reports). 0 reads storage on every request.',
    { min: 0, max: 3600 },
  ),
  yesNo(
    'fast-paths',
    'fastPaths',
    true,
    'Answer polls whose every input is in memory, and in.php posts, straight from the HTTP server rather than through the framework: the same checks and the same answers, byte for byte (tests hold them equal), faster. `no` sends every request through the framework.',
  ),
  seconds('image-deadline', 'imageDeadlineMs', 90, 'Seconds an image or BLS task may take before ERROR_CAPTCHA_UNSOLVABLE.'),
  seconds('token-deadline', 'tokenDeadlineMs', 300, 'Seconds a token task (reCAPTCHA, Turnstile, GeeTest, Cloudflare challenge) may take.'),
  seconds('result-ttl', 'resultTtlMs', 900, 'Seconds a finished task stays readable; then ERROR_WRONG_CAPTCHA_ID.'),
  seconds('bad-proxy-ttl', 'badProxyTtlMs', 600, 'Seconds a proxy that failed stays refused with ERROR_BAD_PROXY.'),
  seconds('bad-pair-ttl', 'badPairTtlMs', 600, 'Seconds a sitekey/pageurl pair reported invalid stays refused with ERROR_BAD_TOKEN_OR_PAGEURL.'),
  count('solver-attempts', 'solverAttempts', 3, 'Attempts per task before ERROR_CAPTCHA_UNSOLVABLE.', 1, 100),
  millis('solver-retry-delay', 'solverRetryDelayMs', 1000, 'Milliseconds before a failed attempt is tried again.'),
  count('circuit-failures', 'circuitFailures', 5, 'Consecutive solver crashes after which in.php answers ERROR_INTERNAL_SERVER_ERROR for its task types.', 1),
  seconds('circuit-cooldown', 'circuitCooldownMs', 30, 'Seconds before a crashed solver is given tasks again.'),
  perTypeOption(
    'solvers',
    'solvers',
    ([b]) => parseBackend('solvers', b),
    '*=sandbox,image=ocr',
    `Solver backend per task type, as \`type=backend\` pairs (\`*\` for all); backends: ${SOLVER_BACKENDS.join(', ')}, and \`relay:NAME\` for one upstream. Types: ${TASK_TYPES.join(', ')}. \`ocr\` reads image captchas; Solvebox solves no token captcha itself, so token types go to \`sandbox\` (fake answers for client testing) unless routed elsewhere: to \`human\`, or to \`relay\`, your own providers (\`--upstreams\`).`,
  ),
  perTypeOption(
    'fallbacks',
    'fallbacks',
    (backends) => backends.map((b) => parseBackend('fallbacks', b)),
    '*=none,image=human',
    'Where a task goes when its solver declines it (the OCR model doubts its reading), as `type=backend` pairs; several backends are tried in order (`image=human,relay`); `none` ends it with ERROR_CAPTCHA_UNSOLVABLE. `human` hands it to the operators in the console; with none of them online it is declined at once. `relay` passes it to the upstreams.',
    { list: true },
  ),
  text(
    'upstreams',
    'upstreams',
    '',
    'A JSON file of upstream providers (CaptchaAI, 2Captcha, Anti-Captcha, another Solvebox) for the `relay` backend: name, url, dialect, the environment variable holding its key, types, priority, concurrency, daily budget. See docs/relay.md.',
  ),
  seconds(
    'human-wait',
    'humanWaitMs',
    0,
    "Seconds a task waits for an operator before the `human` solver declines it (its fallback, if any, gets the rest of its time); 0 waits until the task's deadline.",
    { min: 0 },
  ),
  count('ocr-workers', 'ocrWorkers', 0, 'OCR worker threads, each with its own model session; 0 means one per CPU.', 0, 256),
  text(
    'ocr-model',
    'ocrModel',
    '',
    'A folder holding an OCR model (`ocr.onnx` and `ocr.json`, as training writes them) to read with instead of the shipped one. SIGHUP, or Reload in the console, loads the folder again without dropping tasks.',
  ),
  probability(
    'ocr-min-confidence',
    'ocrMinConfidence',
    DEFAULT_MIN_CONFIDENCE,
    'OCR readings the model gives a lower probability than this (0-1) are declined: handed to the fallback solver, or ERROR_CAPTCHA_UNSOLVABLE.',
  ),
  probability(
    'ocr-second-look',
    'ocrSecondLook',
    DEFAULT_SECOND_LOOK,
    'OCR readings below this probability (0-1) are read again denoised (median filter) and with the outer margin cut away; the likeliest reading wins.',
  ),
  perTypeOption(
    'prices',
    'pricesMicros',
    ([p]) => Math.round(parseNumber('prices', p, { integer: false, min: 0, max: 1e6 }) * 1e6),
    '*=0',
    'Price debited from the balance per solved task, as `type=price` pairs; get2 reports it.',
  ),
  millis('sqlite-busy-timeout', 'sqliteBusyTimeoutMs', 1000, 'Milliseconds to wait for a lock held by another process before answering ERROR_SERVER_ERROR.'),
  choice(
    'sqlite-synchronous',
    'sqliteSynchronous',
    ['normal', 'full'],
    'full',
    '`full`: in.php answers `OK` only once the task is on disk, so it survives a crash of the process or the machine; concurrent writes share one fsync (group commit). `normal`: once it is in the write-ahead log, which survives a crash of the process but not of the machine.',
  ),
  millis('sweep-interval', 'sweepIntervalMs', 1000, 'Milliseconds between passes that expire overdue tasks and old results.', 10),
  yesNo(
    'pingback',
    'pingback',
    true,
    "Deliver answers to the `pingback` URL of a task: a POST of `id` and `code`, signed with the account's key (see docs/protocol.md), retried after 1, 4 and 16 seconds.",
  ),
  yesNo(
    'pingback-private',
    'pingbackPrivate',
    false,
    'Allow pingbacks to loopback, private and link-local addresses. Off, such URLs answer ERROR_BAD_PARAMETERS at submit, and a host that resolves to one is not contacted (no SSRF into your network).',
  ),
  choice('log-level', 'logLevel', LOG_LEVELS, 'warn', 'Log verbosity on stderr. API keys are never logged.'),
  yesNo('console', 'console', true, "Serve the operators' console and `/metrics` on a listener of their own (`--console-host`, `--console-port`)."),
  text(
    'console-host',
    'consoleHost',
    '127.0.0.1',
    'Address the console listens on. The default keeps it off the network; put it behind a TLS proxy before you widen it.',
  ),
  count('console-port', 'consolePort', 8081, 'Port of the console; 0 picks a free one.', 0, 65535, 'port'),
  seconds('console-session', 'consoleSessionMs', 12 * 3600, 'Seconds a console login lasts.', { min: 60, max: 30 * 86400 }),
  seconds('operator-lease', 'operatorLeaseMs', 60, 'Seconds an operator holds a task; unanswered, it goes back to the queue for others.', {
    min: 5,
    max: 3600,
  }),
  count(
    'samples-keep',
    'samplesKeep',
    5000,
    'Image tasks whose answer was confirmed (an operator answered it, or its client reported it good) kept as training samples for `solvebox ocr adapt`, newest first; a `reportbad` drops one. 0 keeps none. Samples never leave the deployment; `solvebox ocr samples purge` deletes them.',
    0,
    10_000_000,
  ),
  text(
    'metrics-token',
    'metricsToken',
    '',
    'A bearer token with which Prometheus may read `/metrics` on the console listener; empty: only admins logged in to the console may.',
  ),
];

export function envName(flag: string): string {
  return `SOLVEBOX_${flag.toUpperCase().replace(/-/g, '_')}`;
}

const perType = <T>(value: T): Record<TaskType, T> => Object.fromEntries(TASK_TYPES.map((t) => [t, value])) as Record<TaskType, T>;

/**
 * Builds the configuration. `values` are option values by flag name (as the CLI parsed them);
 * `env` supplies SOLVEBOX_* variables for options not given as flags.
 */
export function loadConfig(values: Readonly<Record<string, string | undefined>> = {}, env: Readonly<Record<string, string | undefined>> = {}): ServerConfig {
  const config = {
    solvers: perType<SolverBackend>('sandbox'),
    fallbacks: perType<readonly SolverBackend[]>([]),
    pricesMicros: perType(0),
  } as Mutable<ServerConfig>;
  for (const option of OPTIONS) option.apply(config, option.default);
  for (const option of OPTIONS) {
    const value = values[option.flag] ?? env[envName(option.flag)];
    if (value !== undefined) option.apply(config, value);
  }
  for (const flag of Object.keys(values)) {
    if (!OPTIONS.some((o) => o.flag === flag)) throw new ConfigError(`unknown option --${flag}`);
  }
  if (config.imageMinBytes > config.imageMaxBytes) throw new ConfigError('--image-min-bytes is larger than --image-max-bytes');
  // The dialect sets the id format unless it was chosen itself.
  if (config.dialect === '2captcha' && (values['json-ids'] ?? env[envName('json-ids')]) === undefined) config.jsonIds = 'string';
  if (config.redisUrl !== '') {
    if (values.storage !== undefined && config.storage !== 'redis') throw new ConfigError(`--redis and --storage ${config.storage} contradict each other`);
    config.storage = 'redis';
  }
  // `none` in a fallback list means no fallback.
  config.fallbacks = Object.fromEntries(TASK_TYPES.map((t) => [t, Object.freeze(config.fallbacks[t].filter((b) => b !== 'none'))])) as Record<
    TaskType,
    readonly SolverBackend[]
  >;
  if (config.storage === 'redis' && !/^rediss?:\/\//.test(config.redisUrl)) {
    throw new ConfigError('--storage redis needs --redis redis://host:port[/db]');
  }
  return Object.freeze({
    ...config,
    solvers: Object.freeze(config.solvers),
    fallbacks: Object.freeze(config.fallbacks),
    pricesMicros: Object.freeze(config.pricesMicros),
  });
}

/** A configuration for tests and embedding: defaults plus typed overrides, with the console off unless asked. */
export function configWith(overrides: Partial<ServerConfig> = {}): ServerConfig {
  // Off unless asked: processes in a test run would compete for its default port.
  return Object.freeze({ ...loadConfig(), console: false, ...overrides });
}
