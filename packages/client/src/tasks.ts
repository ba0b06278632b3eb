/**
 * The task types the client offers, how each becomes in.php parameters, how long to wait before
 * its first poll, and how its answer is decoded into a typed result.
 */
import { isTokenTask, sniffImageFormat, TASK_TYPES, type TaskType } from '@solvebox/protocol';
import { toBytes, toBase64, type ImageInput } from './images.js';

/** `login:password@host:port` or `host:port` with its type, or the parts. */
export type ProxyInput =
  | { readonly type: 'HTTP' | 'HTTPS' | 'SOCKS4' | 'SOCKS5'; readonly address: string }
  | {
      readonly type: 'HTTP' | 'HTTPS' | 'SOCKS4' | 'SOCKS5';
      readonly host: string;
      readonly port: number;
      readonly login?: string;
      readonly password?: string;
    };

export interface ImageHints {
  /** The answer has two or more words. */
  readonly phrase?: boolean;
  readonly caseSensitive?: boolean;
  /** 0 any, 1 digits, 2 letters, 3 digits or letters, 4 digits and letters. */
  readonly numeric?: 0 | 1 | 2 | 3 | 4;
  /** The image shows arithmetic; the answer is its result. */
  readonly calc?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** 0 unspecified, 1 Cyrillic, 2 Latin. */
  readonly language?: 0 | 1 | 2;
  readonly lang?: string;
  /** A hint for the solver, at most 140 characters. */
  readonly instructions?: string;
}

interface Common {
  /** Where the service should POST the answer when the task ends. */
  readonly pingback?: string;
  readonly softId?: number;
}

export type TaskInput =
  | ({ readonly type: 'image'; readonly image: ImageInput; readonly hints?: ImageHints } & Common)
  | ({
      readonly type: 'recaptchaV2';
      readonly sitekey: string;
      readonly pageurl: string;
      readonly invisible?: boolean;
      readonly enterprise?: boolean;
      readonly dataS?: string;
      readonly cookies?: string;
      readonly userAgent?: string;
      readonly proxy?: ProxyInput;
    } & Common)
  | ({
      readonly type: 'recaptchaV3';
      readonly sitekey: string;
      readonly pageurl: string;
      readonly action?: string;
      readonly minScore?: number;
      readonly enterprise?: boolean;
    } & Common)
  | ({
      readonly type: 'turnstile';
      readonly sitekey: string;
      readonly pageurl: string;
      readonly action?: string;
      readonly data?: string;
      readonly pagedata?: string;
      readonly userAgent?: string;
      readonly proxy?: ProxyInput;
    } & Common)
  | ({ readonly type: 'cloudflareChallenge'; readonly pageurl: string; readonly proxy: ProxyInput; readonly userAgent?: string } & Common)
  | ({
      readonly type: 'geetest';
      readonly gt: string;
      readonly challenge: string;
      readonly pageurl: string;
      readonly apiServer?: string;
      readonly userAgent?: string;
      readonly proxy?: ProxyInput;
    } & Common)
  | ({ readonly type: 'bls'; readonly instructions: string; readonly cells: readonly ImageInput[] } & Common);

export type TaskKind = TaskInput['type'];

export interface GeetestAnswer {
  readonly challenge: string;
  readonly validate: string;
  readonly seccode: string;
}

export interface ClearanceAnswer {
  /** The `cf_clearance` cookie value. */
  readonly token: string;
  /** Send it with this user agent, through the task's proxy. */
  readonly userAgent: string;
}

/** The typed answer of each task type. */
export interface AnswerOf {
  image: string;
  recaptchaV2: string;
  recaptchaV3: string;
  turnstile: string;
  cloudflareChallenge: ClearanceAnswer;
  geetest: GeetestAnswer;
  bls: number[];
}

const PROTOCOL_TYPE: Record<TaskKind, TaskType> = {
  image: 'image',
  recaptchaV2: 'userrecaptcha',
  recaptchaV3: 'userrecaptcha',
  turnstile: 'turnstile',
  cloudflareChallenge: 'cloudflare_challenge',
  geetest: 'geetest',
  bls: 'bls',
};

export function protocolType(kind: TaskKind): TaskType {
  return PROTOCOL_TYPE[kind];
}

/** The vendors' advice for the first poll: 5 s for images, 15-20 s for tokens, 20 s for a Cloudflare challenge. */
export const FIRST_POLL_DELAY_MS: Record<TaskType, number> = perType((type) => (type === 'cloudflare_challenge' ? 20_000 : isTokenTask(type) ? 15_000 : 5_000));

/** Default overall time per solve: the service's own deadline (90 s, 300 s) plus room for retries. */
export const DEFAULT_TIMEOUT_MS: Record<TaskType, number> = perType((type) => (isTokenTask(type) ? 360_000 : 180_000));

function perType(value: (type: TaskType) => number): Record<TaskType, number> {
  return Object.fromEntries(TASK_TYPES.map((type) => [type, value(type)])) as Record<TaskType, number>;
}

const flag = (value: boolean | undefined): string | undefined => (value === undefined ? undefined : value ? '1' : '0');

function proxyParams(proxy: ProxyInput | undefined): Record<string, string | undefined> {
  if (!proxy) return {};
  if ('address' in proxy) return { proxy: proxy.address, proxytype: proxy.type };
  const credentials = proxy.login === undefined ? '' : `${proxy.login}:${proxy.password ?? ''}@`;
  return { proxy: `${credentials}${proxy.host}:${proxy.port}`, proxytype: proxy.type };
}

async function dataUri(image: ImageInput): Promise<string> {
  const bytes = await toBytes(image);
  return `data:image/${sniffImageFormat(bytes) ?? 'png'};base64,${toBase64(bytes)}`;
}

/** The in.php parameters of a task (without key, json and idempotency key). */
export async function taskParams(task: TaskInput): Promise<Record<string, string>> {
  const common = { pingback: task.pingback, soft_id: task.softId === undefined ? undefined : String(task.softId) };
  let params: Record<string, string | undefined>;
  switch (task.type) {
    case 'image': {
      const h = task.hints ?? {};
      params = {
        method: 'base64',
        body: toBase64(await toBytes(task.image)),
        phrase: flag(h.phrase),
        regsense: flag(h.caseSensitive),
        numeric: h.numeric === undefined ? undefined : String(h.numeric),
        calc: flag(h.calc),
        min_len: h.minLength === undefined ? undefined : String(h.minLength),
        max_len: h.maxLength === undefined ? undefined : String(h.maxLength),
        language: h.language === undefined ? undefined : String(h.language),
        lang: h.lang,
        textinstructions: h.instructions,
      };
      break;
    }
    case 'recaptchaV2':
      params = {
        method: 'userrecaptcha',
        googlekey: task.sitekey,
        pageurl: task.pageurl,
        invisible: flag(task.invisible),
        enterprise: flag(task.enterprise),
        'data-s': task.dataS,
        cookies: task.cookies,
        userAgent: task.userAgent,
        ...proxyParams(task.proxy),
      };
      break;
    case 'recaptchaV3':
      params = {
        method: 'userrecaptcha',
        version: 'v3',
        googlekey: task.sitekey,
        pageurl: task.pageurl,
        action: task.action,
        min_score: task.minScore === undefined ? undefined : String(task.minScore),
        enterprise: flag(task.enterprise),
      };
      break;
    case 'turnstile':
      params = {
        method: 'turnstile',
        sitekey: task.sitekey,
        pageurl: task.pageurl,
        action: task.action,
        data: task.data,
        pagedata: task.pagedata,
        userAgent: task.userAgent,
        ...proxyParams(task.proxy),
      };
      break;
    case 'cloudflareChallenge':
      params = { method: 'cloudflare_challenge', pageurl: task.pageurl, userAgent: task.userAgent, ...proxyParams(task.proxy) };
      break;
    case 'geetest':
      params = {
        method: 'geetest',
        gt: task.gt,
        challenge: task.challenge,
        pageurl: task.pageurl,
        api_server: task.apiServer,
        userAgent: task.userAgent,
        ...proxyParams(task.proxy),
      };
      break;
    case 'bls': {
      params = { method: 'bls', instructions: task.instructions };
      const cells = await Promise.all(task.cells.map(dataUri));
      for (const [i, cell] of cells.entries()) params[`image_base64_${i + 1}`] = cell;
      break;
    }
  }
  return Object.fromEntries(Object.entries({ ...params, ...common }).filter((e): e is [string, string] => e[1] !== undefined));
}

// ---- answers -------------------------------------------------------------------------------------

export class AnswerFormatError extends Error {
  override readonly name = 'AnswerFormatError';
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new AnswerFormatError(`expected a text answer, got ${typeof value}`);
}

/** A GeeTest answer arrives as an object or as its JSON text, with `geetest_` keys or without. */
function geetestAnswer(value: unknown): GeetestAnswer {
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      throw new AnswerFormatError('the GeeTest answer is not JSON');
    }
  }
  if (object === null || typeof object !== 'object') throw new AnswerFormatError('the GeeTest answer is not an object');
  const o = object as Record<string, unknown>;
  const pick = (name: string): string => {
    const v = o[`geetest_${name}`] ?? o[name];
    if (typeof v !== 'string') throw new AnswerFormatError(`the GeeTest answer has no ${name}`);
    return v;
  };
  return { challenge: pick('challenge'), validate: pick('validate'), seccode: pick('seccode') };
}

/** BLS cells arrive as `[1, 4, 7]` (CaptchaAI's guide) or `1,4,7` (its examples). */
function blsAnswer(value: unknown): number[] {
  const text = Array.isArray(value) ? value.join(',') : asText(value);
  const cells = text
    .replace(/^\s*\[|\]\s*$/g, '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .map(Number);
  if (cells.some((c) => !Number.isInteger(c) || c < 1 || c > 9)) throw new AnswerFormatError(`the BLS answer is not a list of cells: ${text.slice(0, 50)}`);
  return cells;
}

/** Decodes a solved task's `request` (and extra JSON fields) into the typed answer of its kind. */
export function decodeAnswer<K extends TaskKind>(kind: K, value: unknown, extra: Readonly<Record<string, unknown>>, sent?: TaskInput): AnswerOf[K] {
  switch (kind) {
    case 'geetest':
      return geetestAnswer(value) as AnswerOf[K];
    case 'bls':
      return blsAnswer(value) as AnswerOf[K];
    case 'cloudflareChallenge': {
      // CaptchaAI writes user_agent, 2Captcha useragent; without either, the agent we sent is the one bound.
      const agent = extra.user_agent ?? extra.useragent ?? (sent && 'userAgent' in sent ? sent.userAgent : undefined);
      if (typeof agent !== 'string') throw new AnswerFormatError('the Cloudflare answer has no user agent');
      return { token: asText(value), userAgent: agent } as AnswerOf[K];
    }
    default:
      return asText(value) as AnswerOf[K];
  }
}
