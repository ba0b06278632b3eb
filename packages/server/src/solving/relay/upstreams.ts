/**
 * The upstream providers the relay backend hands tasks to, as `--upstreams FILE` describes them
 * (docs/relay.md). Each upstream's API key comes from the environment variable its entry names,
 * never from the file or the command line, so that the file can be committed and shown.
 */
import { readFileSync } from 'node:fs';
import { isTaskType, TASK_TYPES, type TaskType } from '@solvebox/protocol';
import { ConfigError } from '../../config.js';

export interface UpstreamConfig {
  /** How routes (`relay:NAME`), logs, /health and metrics name it. */
  readonly name: string;
  /** Its base URL: `https://ocr.captchaai.com`, `https://2captcha.com`, another Solvebox. */
  readonly url: string;
  /** `v1`: in.php / res.php; `v2`: the JSON createTask API. */
  readonly dialect: 'v1' | 'v2';
  /** The environment variable holding its API key. */
  readonly keyEnv: string;
  readonly types: readonly TaskType[];
  /** Lower goes first; ties keep the file's order. */
  readonly priority: number;
  /** Its tasks in flight at once from this process; 0 = no limit of ours. */
  readonly concurrency: number;
  /** What it may cost per UTC day, in millionths of a dollar; 0 = no budget. */
  readonly dailyBudgetMicros: number;
  /** What a task costs when the upstream does not say (`get2` and the JSON API's `cost` do), in millionths. */
  readonly priceMicros: number;
  /** Poll with `get2` for the price (v1 only); off for upstreams that lack it. */
  readonly get2: boolean;
  /** What its ERROR_CAPTCHA_UNSOLVABLE does: end the task (`fail`), or try the next upstream (`next`). */
  readonly unsolvable: 'fail' | 'next';
  /** How long one of its tasks may take before the next upstream gets the task; 0 = until the task's deadline. */
  readonly timeoutMs: number;
  /** Between polls, until it advertises long-polls (a Solvebox does). */
  readonly pollIntervalMs: number;
  /** Before the first poll; undefined: the SDK's advice per type (5 s images, 15 s tokens, 20 s Cloudflare). */
  readonly firstPollMs?: number;
  /** Consecutive faults (transport, server errors, its account refusing) that open its circuit. */
  readonly breakerFailures: number;
  /** How long an open circuit stays open before one probe task is let through. */
  readonly breakerCooldownMs: number;
}

/** An upstream and its key, as read from the environment. */
export interface Upstream extends UpstreamConfig {
  readonly key: string;
}

/** The fields of an upstream entry, for docs/relay.md; the parser below reads each. */
export const UPSTREAM_FIELDS: readonly { readonly name: string; readonly value: string; readonly byDefault: string; readonly doc: string }[] = [
  { name: 'name', value: 'text', byDefault: '(required)', doc: 'How routes (`relay:NAME`), logs, /health and metrics name it: 1-32 of `a-z 0-9 - _`.' },
  {
    name: 'url',
    value: 'URL',
    byDefault: '(required)',
    doc: 'Base URL: `https://ocr.captchaai.com`, `https://2captcha.com`, `https://api.anti-captcha.com`, another Solvebox. No credentials in it.',
  },
  {
    name: 'dialect',
    value: '`v1` or `v2`',
    byDefault: '`v1`',
    doc: '`v1`: in.php / res.php. `v2`: the JSON createTask API (2Captcha v2, Anti-Captcha, CapMonster Cloud).',
  },
  {
    name: 'keyEnv',
    value: 'variable name',
    byDefault: '(required)',
    doc: 'The environment variable holding its API key. Keys never go in the file (an entry with `key` is refused).',
  },
  { name: 'types', value: 'list of task types', byDefault: '(required)', doc: 'The task types it serves (`turnstile`, `userrecaptcha`, `image`, ...).' },
  { name: 'priority', value: 'number', byDefault: '100', doc: 'Lower goes first; equal priorities keep the order of the file.' },
  {
    name: 'concurrency',
    value: 'count',
    byDefault: '0',
    doc: 'Its tasks in flight at once from one process; more wait for a free place (or go to another upstream). 0: no limit of ours.',
  },
  {
    name: 'dailyBudget',
    value: 'dollars',
    byDefault: '0',
    doc: 'What it may cost per UTC day; once spent, no task goes there until the next day. 0: no budget.',
  },
  { name: 'price', value: 'dollars', byDefault: '0', doc: 'What a task costs when the upstream does not say (`get2` and the JSON API report it).' },
  {
    name: 'get2',
    value: 'true or false',
    byDefault: 'true for v1',
    doc: 'Poll with `get2`, which reports the price; set false for a v1 upstream that lacks `get2`.',
  },
  { name: 'unsolvable', value: '`fail` or `next`', byDefault: '`fail`', doc: 'Its ERROR_CAPTCHA_UNSOLVABLE ends the task, or hands it to the next upstream.' },
  {
    name: 'timeout',
    value: 'seconds',
    byDefault: '0',
    doc: "How long one of its tasks may take before the next upstream gets the task. 0: until the task's own deadline.",
  },
  { name: 'pollInterval', value: 'seconds', byDefault: '5', doc: 'Between polls, until it advertises long-polls (a Solvebox does, and is then long-polled).' },
  {
    name: 'firstPoll',
    value: 'seconds',
    byDefault: "the SDK's",
    doc: 'Before the first poll: by default 5 s for images, 15 s for tokens, 20 s for Cloudflare challenges, as the vendors advise.',
  },
  {
    name: 'breakerFailures',
    value: 'count',
    byDefault: '3',
    doc: 'Consecutive faults (transport failures, server errors, timeouts, a refused key) that open its circuit.',
  },
  {
    name: 'breakerCooldown',
    value: 'seconds',
    byDefault: '30',
    doc: 'How long an open circuit stays open; then one probe task goes through (half-open), and its outcome closes or reopens it.',
  },
];

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

type Raw = Record<string, unknown>;

/** Reads `--upstreams FILE`; keys from `env`. Every mistake is a ConfigError that names the entry and the field. */
export function loadUpstreams(path: string, env: Readonly<Record<string, string | undefined>>): Upstream[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--upstreams: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--upstreams: ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseUpstreams(parsed, env);
}

export function parseUpstreams(parsed: unknown, env: Readonly<Record<string, string | undefined>>): Upstream[] {
  const list = (parsed as Raw | null)?.upstreams;
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError('--upstreams: the file needs { "upstreams": [ ... ] } with at least one entry');
  const upstreams = list.map((entry, i) => parseEntry(entry, i, env));
  const names = new Set<string>();
  for (const u of upstreams) {
    if (names.has(u.name)) throw new ConfigError(`--upstreams: two upstreams are named "${u.name}"`);
    names.add(u.name);
  }
  // Stable: equal priorities keep the file's order.
  return upstreams
    .map((u, i) => ({ u, i }))
    .sort((a, b) => a.u.priority - b.u.priority || a.i - b.i)
    .map(({ u }) => u);
}

function parseEntry(entry: unknown, index: number, env: Readonly<Record<string, string | undefined>>): Upstream {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new ConfigError(`--upstreams: entry ${index + 1} is not an object`);
  const raw = entry as Raw;
  const where = `--upstreams: entry ${index + 1}${typeof raw.name === 'string' ? ` ("${raw.name}")` : ''}`;
  const known = new Set(UPSTREAM_FIELDS.map((f) => f.name));
  for (const field of Object.keys(raw)) {
    if (field === 'key' || field === 'apiKey') throw new ConfigError(`${where}: keys do not go in the file; name an environment variable in "keyEnv"`);
    if (!known.has(field)) throw new ConfigError(`${where}: unknown field "${field}"`);
  }
  const name = raw.name;
  if (typeof name !== 'string' || !NAME.test(name)) throw new ConfigError(`${where}: "name" must be 1-32 lower-case letters, digits, - or _`);
  const url = raw.url;
  if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url)) throw new ConfigError(`${where}: "url" must be an http(s) URL`);
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) throw new ConfigError(`${where}: "url" must not carry credentials; put the key in "keyEnv"`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${where}: "url" is not a URL`);
  }
  const dialect = raw.dialect ?? 'v1';
  if (dialect !== 'v1' && dialect !== 'v2') throw new ConfigError(`${where}: "dialect" must be "v1" or "v2"`);
  const keyEnv = raw.keyEnv;
  if (typeof keyEnv !== 'string' || !ENV_NAME.test(keyEnv)) throw new ConfigError(`${where}: "keyEnv" must name an environment variable (A-Z, 0-9, _)`);
  const key = env[keyEnv];
  if (key === undefined || key.trim() === '') throw new ConfigError(`${where}: the environment variable ${keyEnv} that holds its key is not set`);
  const types = raw.types;
  if (!Array.isArray(types) || types.length === 0) throw new ConfigError(`${where}: "types" must list the task types it serves`);
  for (const type of types) {
    if (typeof type !== 'string' || !isTaskType(type))
      throw new ConfigError(`${where}: unknown task type ${JSON.stringify(type)}; use ${TASK_TYPES.join(', ')}`);
  }
  const unsolvable = raw.unsolvable ?? 'fail';
  if (unsolvable !== 'fail' && unsolvable !== 'next') throw new ConfigError(`${where}: "unsolvable" must be "fail" or "next"`);
  const get2 = raw.get2 ?? dialect === 'v1';
  if (typeof get2 !== 'boolean') throw new ConfigError(`${where}: "get2" must be true or false`);
  const number = (field: string, byDefault: number, max: number): number => {
    const value = raw[field] ?? byDefault;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max)
      throw new ConfigError(`${where}: "${field}" must be a number from 0 to ${max}`);
    return value;
  };
  const dollars = (field: string): number => Math.round(number(field, 0, 1e6) * 1e6);
  return {
    name,
    url: url.replace(/\/+$/, ''),
    dialect,
    keyEnv,
    key: key.trim(),
    types: [...new Set(types as TaskType[])],
    priority: number('priority', 100, 1e6),
    concurrency: Math.floor(number('concurrency', 0, 1e6)),
    dailyBudgetMicros: dollars('dailyBudget'),
    priceMicros: dollars('price'),
    get2,
    unsolvable,
    timeoutMs: Math.round(number('timeout', 0, 86400) * 1000),
    pollIntervalMs: Math.round(number('pollInterval', 5, 600) * 1000),
    ...(raw.firstPoll === undefined ? {} : { firstPollMs: Math.round(number('firstPoll', 0, 600) * 1000) }),
    breakerFailures: Math.max(1, Math.floor(number('breakerFailures', 3, 1000))),
    breakerCooldownMs: Math.round(number('breakerCooldown', 30, 86400) * 1000),
  };
}
