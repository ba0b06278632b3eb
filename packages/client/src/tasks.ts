/**
 * The task types the client offers, how each becomes in.php parameters, how long to wait before
 * its first poll, and how its answer is decoded into a typed result.
 */
import { isTokenTask, sniffImageFormat, TASK_TYPES, type TaskType, type WidgetType } from '@solvebox/protocol';
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
      /** Where the widget loads from, when the page uses recaptcha.net. @defaultValue 'google.com' */
      readonly domain?: 'google.com' | 'recaptcha.net';
    } & Common)
  | ({
      readonly type: 'recaptchaV3';
      readonly sitekey: string;
      readonly pageurl: string;
      readonly action?: string;
      readonly minScore?: number;
      readonly enterprise?: boolean;
      readonly domain?: 'google.com' | 'recaptcha.net';
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
  | ({ readonly type: 'bls'; readonly instructions: string; readonly cells: readonly ImageInput[] } & Common)
  | ({
      readonly type: 'hcaptcha';
      readonly sitekey: string;
      readonly pageurl: string;
      readonly invisible?: boolean;
      /** The `rqdata` some sites pass. */
      readonly data?: string;
      readonly userAgent?: string;
      readonly proxy?: ProxyInput;
    } & Common)
  | ({
      readonly type: 'funcaptcha';
      readonly publickey: string;
      readonly pageurl: string;
      readonly surl?: string;
      /** Custom data fields, e.g. `{ blob: '...' }`, sent as `data[blob]`. */
      readonly data?: Readonly<Record<string, string>>;
      readonly userAgent?: string;
      readonly proxy?: ProxyInput;
    } & Common)
  | ({ readonly type: 'geetestV4'; readonly captchaId: string; readonly pageurl: string; readonly riskType?: string; readonly proxy?: ProxyInput } & Common)
  | ({
      /** Any other widget of the v1 list, by its method name and its parameters (docs/parameters.md). */
      readonly type: 'widget';
      readonly method: WidgetType;
      readonly pageurl: string;
      readonly params: Readonly<Record<string, string>>;
      readonly proxy?: ProxyInput;
    } & Common)
  | ({
      readonly type: 'grid';
      readonly image: ImageInput;
      readonly instructions?: string;
      readonly rows?: number;
      readonly columns?: number;
      /** There may be no matching cell: the answer is then an empty list. */
      readonly canSkip?: boolean;
    } & Common)
  | ({ readonly type: 'coordinates'; readonly image: ImageInput; readonly instructions?: string } & Common)
  | ({ readonly type: 'rotate'; readonly image: ImageInput; readonly angle?: number } & Common)
  | ({ readonly type: 'textQuestion'; readonly question: string; readonly lang?: string } & Common)
  | ({ readonly type: 'audio'; readonly audio: ImageInput; readonly lang: 'en' | 'ru' | 'de' | 'el' | 'pt' | 'fr' } & Common);

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
  hcaptcha: string;
  funcaptcha: string;
  /** GeeTest v4's fields as its `validate` call wants them: `captcha_id`, `lot_number`, `pass_token`, `gen_time`, `captcha_output`. */
  geetestV4: Readonly<Record<string, string>>;
  /** A token, or the vendor's object (Capy, Lemin, Amazon WAF, Tencent). */
  widget: string | Readonly<Record<string, string>>;
  /** The cells to click, numbered from 1 left to right, top to bottom. */
  grid: number[];
  coordinates: { x: number; y: number }[];
  /** Degrees, clockwise. */
  rotate: number;
  textQuestion: string;
  audio: string;
}

const PROTOCOL_TYPE: Record<TaskKind, TaskType> = {
  image: 'image',
  recaptchaV2: 'userrecaptcha',
  recaptchaV3: 'userrecaptcha',
  turnstile: 'turnstile',
  cloudflareChallenge: 'cloudflare_challenge',
  geetest: 'geetest',
  bls: 'bls',
  hcaptcha: 'hcaptcha',
  funcaptcha: 'funcaptcha',
  geetestV4: 'geetest_v4',
  // Every widget is a token task: its timing is hCaptcha's.
  widget: 'hcaptcha',
  grid: 'grid',
  coordinates: 'coordinates',
  rotate: 'rotate',
  textQuestion: 'textcaptcha',
  audio: 'audio',
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
        domain: task.domain,
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
        domain: task.domain,
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
    case 'hcaptcha':
      params = {
        method: 'hcaptcha',
        sitekey: task.sitekey,
        pageurl: task.pageurl,
        invisible: flag(task.invisible),
        data: task.data,
        userAgent: task.userAgent,
        ...proxyParams(task.proxy),
      };
      break;
    case 'funcaptcha':
      params = {
        method: 'funcaptcha',
        publickey: task.publickey,
        pageurl: task.pageurl,
        surl: task.surl,
        userAgent: task.userAgent,
        ...proxyParams(task.proxy),
      };
      for (const [name, value] of Object.entries(task.data ?? {})) params[`data[${name}]`] = value;
      break;
    case 'geetestV4':
      params = { method: 'geetest_v4', captcha_id: task.captchaId, pageurl: task.pageurl, risk_type: task.riskType, ...proxyParams(task.proxy) };
      break;
    case 'widget':
      params = { ...task.params, method: task.method, pageurl: task.pageurl, ...proxyParams(task.proxy) };
      break;
    case 'grid':
      params = {
        method: 'grid',
        body: toBase64(await toBytes(task.image)),
        textinstructions: task.instructions,
        recaptcharows: task.rows === undefined ? undefined : String(task.rows),
        recaptchacols: task.columns === undefined ? undefined : String(task.columns),
        can_no_answer: flag(task.canSkip),
      };
      break;
    case 'coordinates':
      params = { method: 'coordinates', body: toBase64(await toBytes(task.image)), textinstructions: task.instructions };
      break;
    case 'rotate':
      params = { method: 'rotatecaptcha', body: toBase64(await toBytes(task.image)), angle: task.angle === undefined ? undefined : String(task.angle) };
      break;
    case 'textQuestion':
      params = { method: 'textcaptcha', textcaptcha: task.question, lang: task.lang };
      break;
    case 'audio':
      params = { method: 'audio', body: toBase64(await toBytes(task.audio)), lang: task.lang };
      break;
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
    case 'geetestV4':
      return objectAnswer(value, 'GeeTest v4') as AnswerOf[K];
    case 'widget':
      return (value !== null && typeof value === 'object' ? objectAnswer(value, 'widget') : asText(value)) as AnswerOf[K];
    case 'grid':
      return gridAnswer(value) as AnswerOf[K];
    case 'coordinates':
      return pointsAnswer(value) as AnswerOf[K];
    case 'rotate': {
      const degrees = Number(asText(value));
      if (!Number.isFinite(degrees)) throw new AnswerFormatError('the rotate answer is not a number');
      return degrees as AnswerOf[K];
    }
    default:
      return asText(value) as AnswerOf[K];
  }
}

/** An object answer, as an object or its JSON text, with text values. */
function objectAnswer(value: unknown, what: string): Record<string, string> {
  let object = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      throw new AnswerFormatError(`the ${what} answer is not JSON`);
    }
  }
  if (object === null || typeof object !== 'object' || Array.isArray(object)) throw new AnswerFormatError(`the ${what} answer is not an object`);
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, String(v)]));
}

/** `click:3/6/8`, or `No_matching_images` (an empty list). */
function gridAnswer(value: unknown): number[] {
  const text = asText(value);
  if (text === 'No_matching_images') return [];
  const match = /^click:([0-9]+(?:\/[0-9]+)*)$/.exec(text);
  if (!match) throw new AnswerFormatError(`the grid answer is not click:N/N: ${text.slice(0, 50)}`);
  return (match[1] as string).split('/').map(Number);
}

/** `coordinates:x=39,y=59;x=252,y=72`, or (JSON) a list of `{"x":"39","y":"59"}`. */
function pointsAnswer(value: unknown): { x: number; y: number }[] {
  const points = Array.isArray(value)
    ? value.map((p: { x?: unknown; y?: unknown }) => ({ x: Number(p?.x), y: Number(p?.y) }))
    : [...asText(value).matchAll(/x=(-?[0-9]+),y=(-?[0-9]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
  if (points.length === 0 || points.some((p) => !Number.isFinite(p.x) || !Number.isFinite(p.y)))
    throw new AnswerFormatError('the coordinates answer has no points');
  return points;
}
