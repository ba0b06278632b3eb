/**
 * Server configuration: one table of options, read from defaults, then SOLVEBOX_* environment
 * variables, then command-line flags (later wins). The same table drives the CLI's flags and
 * docs/configuration.md. The result is validated once and frozen.
 */
import { DEFAULT_MIN_CONFIDENCE, DEFAULT_SECOND_LOOK } from '@solvebox/ocr/defaults';
import { TASK_TYPES, type TaskType } from '@solvebox/protocol';
import { DEFAULT_LEASE_MS } from './solving/runner.js';

export type SolverBackend = 'ocr' | 'sandbox' | 'none';
export const SOLVER_BACKENDS: readonly SolverBackend[] = ['ocr', 'sandbox', 'none'];

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
  /** Where a task goes when its solver declines it; `none` ends it with ERROR_CAPTCHA_UNSOLVABLE. */
  readonly fallbacks: Readonly<Record<TaskType, SolverBackend>>;
  /** OCR worker threads; 0 = one per CPU. */
  readonly ocrWorkers: number;
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
}

type OptionKind = 'string' | 'port' | 'count' | 'seconds' | 'flag' | 'choice' | 'bytes' | 'millis';

interface OptionSpec {
  /** The flag name (`--name`); the environment variable is SOLVEBOX_NAME in upper snake case. */
  readonly flag: string;
  readonly kind: OptionKind;
  readonly choices?: readonly string[];
  readonly default: string;
  readonly doc: string;
  apply(config: Mutable<ServerConfig>, value: string): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

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

const count = (flag: string, value: string, min = 0, max = 1e9): number => parseNumber(flag, value, { integer: true, min, max });
const seconds = (flag: string, value: string): number => Math.round(parseNumber(flag, value, { integer: false, min: 0.001, max: 365 * 86400 }) * 1000);

function parseFlag(flag: string, value: string): boolean {
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

/** `type=value,type=value` for per-task-type settings; `*=value` sets every type. */
function parsePerType<T>(flag: string, value: string, parseOne: (v: string) => T, into: Record<TaskType, T>): void {
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new ConfigError(`--${flag} takes type=value pairs separated by commas, got "${part}"`);
    const type = part.slice(0, eq).trim();
    const parsed = parseOne(part.slice(eq + 1).trim());
    if (type === '*') {
      for (const t of TASK_TYPES) into[t] = parsed;
    } else if ((TASK_TYPES as readonly string[]).includes(type)) {
      into[type as TaskType] = parsed;
    } else {
      throw new ConfigError(`--${flag}: unknown task type "${type}"; use one of ${TASK_TYPES.join(', ')} or *`);
    }
  }
}

const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;

export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'host', kind: 'string', default: '127.0.0.1', doc: 'Address to listen on. Use 0.0.0.0 to accept other machines.', apply: (c, v) => (c.host = v) },
  { flag: 'port', kind: 'port', default: '8080', doc: 'Port to listen on; 0 picks a free one.', apply: (c, v) => (c.port = count('port', v, 0, 65535)) },
  {
    flag: 'storage',
    kind: 'choice',
    choices: ['sqlite', 'memory', 'redis'],
    default: 'sqlite',
    doc: 'Where state lives: `sqlite` (the `--db` file), `redis` (the `--redis` server, shared by several nodes and workers) or `memory` (lost on exit; for experiments).',
    apply: (c, v) => (c.storage = parseChoice('storage', v, ['sqlite', 'memory', 'redis'] as const)),
  },
  { flag: 'db', kind: 'string', default: './data/solvebox.db', doc: 'SQLite database file; its folder is created if needed.', apply: (c, v) => (c.db = v) },
  {
    flag: 'redis',
    kind: 'string',
    default: '',
    doc: 'Redis URL (`redis://[:password@]host:port/db`). Setting it means `--storage redis`: every API node and `solvebox worker` given the same URL shares accounts, tasks, bans and marks. See docs/deployment.md.',
    apply: (c, v) => (c.redisUrl = v.trim()),
  },
  {
    flag: 'redis-prefix',
    kind: 'string',
    default: 'solvebox:',
    doc: 'Prefix of every Redis key (the schema version follows it), so that one Redis can hold several deployments.',
    apply: (c, v) => (c.redisPrefix = v),
  },
  {
    flag: 'run-solvers',
    kind: 'flag',
    default: '1',
    doc: 'Solve tasks in this process. Set 0 on API-only nodes of a Redis deployment whose solving `solvebox worker` processes do.',
    apply: (c, v) => (c.runSolvers = parseFlag('run-solvers', v)),
  },
  {
    flag: 'concurrency',
    kind: 'count',
    default: '0',
    doc: "Tasks each solver works on at once in this process; 0 means the solver's own limit (OCR: one per worker thread; sandbox: 1000).",
    apply: (c, v) => (c.concurrency = count('concurrency', v, 0, 100_000)),
  },
  {
    flag: 'lease',
    kind: 'seconds',
    default: String(DEFAULT_LEASE_MS / 1000),
    doc: 'Seconds a solver holds a task unless it renews the lease (it does, every third of that, while it works). A task whose worker died goes back to the queue this long after the last renewal.',
    apply: (c, v) => (c.leaseMs = seconds('lease', v)),
  },
  {
    flag: 'trust-proxy',
    kind: 'string',
    default: 'false',
    doc: 'Take the client IP (for bans) from X-Forwarded-For: `false`, `true`, a hop count, or comma-separated proxy addresses/CIDRs.',
    apply: (c, v) => {
      const t = v.trim().toLowerCase();
      c.trustProxy = t === 'false' || t === '0' || t === '' ? false : t === 'true' ? true : /^[0-9]+$/.test(t) ? Number(t) : v.trim();
    },
  },
  {
    flag: 'json-default',
    kind: 'flag',
    default: '0',
    doc: 'Answer JSON when a request has no `json` parameter (2Captcha: 0; CaptchaAI documents 1).',
    apply: (c, v) => (c.jsonByDefault = parseFlag('json-default', v)),
  },
  {
    flag: 'json-ids',
    kind: 'choice',
    choices: ['captchaai', 'string'],
    default: 'captchaai',
    doc: 'Task ids in JSON in.php answers: `captchaai` sends a number for userrecaptcha and a string otherwise (as CaptchaAI does); `string` always sends a string (as 2Captcha does).',
    apply: (c, v) => (c.jsonIds = parseChoice('json-ids', v, ['captchaai', 'string'] as const)),
  },
  {
    flag: 'image-min-bytes',
    kind: 'bytes',
    default: '100',
    doc: 'Smaller images answer ERROR_ZERO_CAPTCHA_FILESIZE.',
    apply: (c, v) => (c.imageMinBytes = count('image-min-bytes', v)),
  },
  {
    flag: 'image-max-bytes',
    kind: 'bytes',
    default: '102400',
    doc: 'Larger images answer ERROR_TOO_BIG_CAPTCHA_FILESIZE.',
    apply: (c, v) => (c.imageMaxBytes = count('image-max-bytes', v, 1)),
  },
  {
    flag: 'image-max-side',
    kind: 'count',
    default: '1000',
    doc: 'Images wider or taller than this many pixels answer ERROR_TOO_BIG_CAPTCHA_FILESIZE (so do decompression bombs, whatever their byte size).',
    apply: (c, v) => (c.imageMaxSide = count('image-max-side', v, 16, 4096)),
  },
  {
    flag: 'body-limit-bytes',
    kind: 'bytes',
    default: '2097152',
    doc: 'Largest request body read at all (a BLS task carries nine images); larger bodies answer ERROR_TOO_BIG_CAPTCHA_FILESIZE.',
    apply: (c, v) => (c.bodyLimitBytes = count('body-limit-bytes', v, 1024)),
  },
  {
    flag: 'ban-failures',
    kind: 'count',
    default: '5',
    doc: 'Failed authentications from one IP that trigger IP_BANNED.',
    apply: (c, v) => (c.banFailures = count('ban-failures', v, 1)),
  },
  {
    flag: 'ban-window',
    kind: 'seconds',
    default: '60',
    doc: 'Seconds within which those failures must fall.',
    apply: (c, v) => (c.banWindowMs = seconds('ban-window', v)),
  },
  { flag: 'ban-duration', kind: 'seconds', default: '300', doc: 'Seconds an IP stays banned.', apply: (c, v) => (c.banMs = seconds('ban-duration', v)) },
  {
    flag: 'auth-cache',
    kind: 'seconds',
    default: '2',
    doc: 'Seconds an API key is remembered after a storage read, so that polls and submits skip that read. A key disabled with `solvebox keys` stops working within this time (at once for `getbalance` and reports). 0 reads storage on every request.',
    apply: (c, v) => (c.authCacheMs = Math.round(parseNumber('auth-cache', v, { integer: false, min: 0, max: 3600 }) * 1000)),
  },
  {
    flag: 'image-deadline',
    kind: 'seconds',
    default: '90',
    doc: 'Seconds an image or BLS task may take before ERROR_CAPTCHA_UNSOLVABLE.',
    apply: (c, v) => (c.imageDeadlineMs = seconds('image-deadline', v)),
  },
  {
    flag: 'token-deadline',
    kind: 'seconds',
    default: '300',
    doc: 'Seconds a token task (reCAPTCHA, Turnstile, GeeTest, Cloudflare challenge) may take.',
    apply: (c, v) => (c.tokenDeadlineMs = seconds('token-deadline', v)),
  },
  {
    flag: 'result-ttl',
    kind: 'seconds',
    default: '900',
    doc: 'Seconds a finished task stays readable; then ERROR_WRONG_CAPTCHA_ID.',
    apply: (c, v) => (c.resultTtlMs = seconds('result-ttl', v)),
  },
  {
    flag: 'bad-proxy-ttl',
    kind: 'seconds',
    default: '600',
    doc: 'Seconds a proxy that failed stays refused with ERROR_BAD_PROXY.',
    apply: (c, v) => (c.badProxyTtlMs = seconds('bad-proxy-ttl', v)),
  },
  {
    flag: 'bad-pair-ttl',
    kind: 'seconds',
    default: '600',
    doc: 'Seconds a sitekey/pageurl pair reported invalid stays refused with ERROR_BAD_TOKEN_OR_PAGEURL.',
    apply: (c, v) => (c.badPairTtlMs = seconds('bad-pair-ttl', v)),
  },
  {
    flag: 'solver-attempts',
    kind: 'count',
    default: '3',
    doc: 'Attempts per task before ERROR_CAPTCHA_UNSOLVABLE.',
    apply: (c, v) => (c.solverAttempts = count('solver-attempts', v, 1, 100)),
  },
  {
    flag: 'solver-retry-delay',
    kind: 'millis',
    default: '1000',
    doc: 'Milliseconds before a failed attempt is tried again.',
    apply: (c, v) => (c.solverRetryDelayMs = count('solver-retry-delay', v)),
  },
  {
    flag: 'circuit-failures',
    kind: 'count',
    default: '5',
    doc: 'Consecutive solver crashes after which in.php answers ERROR_INTERNAL_SERVER_ERROR for its task types.',
    apply: (c, v) => (c.circuitFailures = count('circuit-failures', v, 1)),
  },
  {
    flag: 'circuit-cooldown',
    kind: 'seconds',
    default: '30',
    doc: 'Seconds before a crashed solver is given tasks again.',
    apply: (c, v) => (c.circuitCooldownMs = seconds('circuit-cooldown', v)),
  },
  {
    flag: 'solvers',
    kind: 'string',
    default: '*=sandbox,image=ocr',
    doc: `Solver backend per task type, as \`type=backend\` pairs (\`*\` for all); backends: ${SOLVER_BACKENDS.join(', ')}. Types: ${TASK_TYPES.join(', ')}. \`ocr\` reads image captchas; Solvebox solves no token captcha itself, so token types go to \`sandbox\` (fake answers for client testing) unless routed elsewhere.`,
    apply: (c, v) => {
      const solvers = { ...c.solvers };
      parsePerType('solvers', v, (b) => parseChoice('solvers', b, SOLVER_BACKENDS), solvers);
      c.solvers = solvers;
    },
  },
  {
    flag: 'fallbacks',
    kind: 'string',
    default: '*=none',
    doc: 'Where a task goes when its solver declines it (the OCR model doubts its reading), as `type=backend` pairs; `none` ends it with ERROR_CAPTCHA_UNSOLVABLE.',
    apply: (c, v) => {
      const fallbacks = { ...c.fallbacks };
      parsePerType('fallbacks', v, (b) => parseChoice('fallbacks', b, SOLVER_BACKENDS), fallbacks);
      c.fallbacks = fallbacks;
    },
  },
  {
    flag: 'ocr-workers',
    kind: 'count',
    default: '0',
    doc: 'OCR worker threads, each with its own model session; 0 means one per CPU.',
    apply: (c, v) => (c.ocrWorkers = count('ocr-workers', v, 0, 256)),
  },
  {
    flag: 'ocr-min-confidence',
    kind: 'string',
    default: String(DEFAULT_MIN_CONFIDENCE),
    doc: 'OCR readings the model gives a lower probability than this (0-1) are declined: handed to the fallback solver, or ERROR_CAPTCHA_UNSOLVABLE.',
    apply: (c, v) => (c.ocrMinConfidence = parseNumber('ocr-min-confidence', v, { integer: false, min: 0, max: 1 })),
  },
  {
    flag: 'ocr-second-look',
    kind: 'string',
    default: String(DEFAULT_SECOND_LOOK),
    doc: 'OCR readings below this probability (0-1) are read again denoised (median filter) and with the outer margin cut away; the likeliest reading wins.',
    apply: (c, v) => (c.ocrSecondLook = parseNumber('ocr-second-look', v, { integer: false, min: 0, max: 1 })),
  },
  {
    flag: 'prices',
    kind: 'string',
    default: '*=0',
    doc: 'Price debited from the balance per solved task, as `type=price` pairs; get2 reports it.',
    apply: (c, v) => {
      const prices = { ...c.pricesMicros };
      parsePerType('prices', v, (p) => Math.round(parseNumber('prices', p, { integer: false, min: 0, max: 1e6 }) * 1e6), prices);
      c.pricesMicros = prices;
    },
  },
  {
    flag: 'sqlite-busy-timeout',
    kind: 'millis',
    default: '1000',
    doc: 'Milliseconds to wait for a lock held by another process before answering ERROR_SERVER_ERROR.',
    apply: (c, v) => (c.sqliteBusyTimeoutMs = count('sqlite-busy-timeout', v)),
  },
  {
    flag: 'sqlite-synchronous',
    kind: 'choice',
    choices: ['normal', 'full'],
    default: 'full',
    doc: '`full`: in.php answers `OK` only once the task is on disk, so it survives a crash of the process or the machine; concurrent writes share one fsync (group commit). `normal`: once it is in the write-ahead log, which survives a crash of the process but not of the machine.',
    apply: (c, v) => (c.sqliteSynchronous = parseChoice('sqlite-synchronous', v, ['normal', 'full'] as const)),
  },
  {
    flag: 'sweep-interval',
    kind: 'millis',
    default: '1000',
    doc: 'Milliseconds between passes that expire overdue tasks and old results.',
    apply: (c, v) => (c.sweepIntervalMs = count('sweep-interval', v, 10)),
  },
  {
    flag: 'pingback',
    kind: 'flag',
    default: '1',
    doc: "Deliver answers to the `pingback` URL of a task: a POST of `id` and `code`, signed with the account's key (see docs/protocol.md), retried after 1, 4 and 16 seconds.",
    apply: (c, v) => (c.pingback = parseFlag('pingback', v)),
  },
  {
    flag: 'pingback-private',
    kind: 'flag',
    default: '0',
    doc: 'Allow pingbacks to loopback, private and link-local addresses. Off, such URLs answer ERROR_BAD_PARAMETERS at submit, and a host that resolves to one is not contacted (no SSRF into your network).',
    apply: (c, v) => (c.pingbackPrivate = parseFlag('pingback-private', v)),
  },
  {
    flag: 'log-level',
    kind: 'choice',
    choices: LOG_LEVELS,
    default: 'warn',
    doc: 'Log verbosity on stderr. API keys are never logged.',
    apply: (c, v) => (c.logLevel = parseChoice('log-level', v, LOG_LEVELS)),
  },
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
  const config = { solvers: perType<SolverBackend>('sandbox'), fallbacks: perType<SolverBackend>('none'), pricesMicros: perType(0) } as Mutable<ServerConfig>;
  for (const option of OPTIONS) option.apply(config, option.default);
  for (const option of OPTIONS) {
    const value = values[option.flag] ?? env[envName(option.flag)];
    if (value !== undefined) option.apply(config, value);
  }
  for (const flag of Object.keys(values)) {
    if (!OPTIONS.some((o) => o.flag === flag)) throw new ConfigError(`unknown option --${flag}`);
  }
  if (config.imageMinBytes > config.imageMaxBytes) throw new ConfigError('--image-min-bytes is larger than --image-max-bytes');
  if (config.redisUrl !== '') {
    if (values.storage !== undefined && config.storage !== 'redis') throw new ConfigError(`--redis and --storage ${config.storage} contradict each other`);
    config.storage = 'redis';
  }
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

/** A configuration for tests and embedding: defaults plus typed overrides. */
export function configWith(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return Object.freeze({ ...loadConfig(), ...overrides });
}
