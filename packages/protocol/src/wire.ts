/**
 * Encoding of in.php / res.php answers. Every answer has a plain form (`OK|value`, a bare value,
 * or a bare code) and a JSON form (`{"status":1|0,"request":...}`); the `json` request flag
 * picks one. Both forms are built together so that they can never disagree.
 */
import { ERROR_CATALOG, type ErrorCode } from './errors/catalog.js';
import type { Solution } from './tasks.js';

export interface Reply {
  readonly plain: string;
  readonly json: Readonly<Record<string, unknown>>;
  /** Some answers exist only as JSON (GeeTest results), whatever the `json` flag says. */
  readonly jsonOnly?: boolean;
}

export interface RenderedReply {
  readonly body: string;
  readonly contentType: string;
}

export const PLAIN_CONTENT_TYPE = 'text/plain; charset=utf-8';
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `OK|value` / `{"status":1,"request":value, ...extra}`. */
export function okReply(request: string | number, extra: Readonly<Record<string, string>> = {}): Reply {
  return { plain: `OK|${request}`, json: { status: 1, request, ...extra } };
}

/** A success value sent without the `OK|` prefix: balances and `OK_REPORT_RECORDED`. */
export function valueReply(value: string): Reply {
  return { plain: value, json: { status: 1, request: value } };
}

/**
 * A protocol code: plain is the bare code, JSON is status 0. Errors carry `error_text` (the
 * specific reason when the server knows it, else the catalog's description); `CAPCHA_NOT_READY`
 * carries none, as on the real services.
 */
export function codeReply(code: ErrorCode, errorText?: string): Reply {
  const entry = ERROR_CATALOG[code];
  if (entry.retry === 'not-ready') return { plain: code, json: { status: 0, request: code } };
  return { plain: code, json: { status: 0, request: code, error_text: errorText ?? entry.description } };
}

export function renderReply(reply: Reply, json: boolean): RenderedReply {
  if (json || reply.jsonOnly) return { body: JSON.stringify(reply.json), contentType: JSON_CONTENT_TYPE };
  return { body: reply.plain, contentType: PLAIN_CONTENT_TYPE };
}

/**
 * The `request` value of a solved task, plus the extra JSON fields that go with it.
 * - text: the text itself; a bound user agent travels as `useragent` (2Captcha) and `user_agent` (CaptchaAI).
 * - geetest: an object of `geetest_challenge`, `geetest_validate`, `geetest_seccode`.
 * - cells (BLS): a JSON array in a string, `"[1, 4, 7, 8]"`, as CaptchaAI documents.
 * - clearance: the `cf_clearance` value, with the user agent in both spellings.
 * - object (Capy, Lemin, Amazon WAF, Tencent, GeeTest v4): the object as the vendor documents it.
 * - points (coordinates): a list of `{"x":"39","y":"59"}`, strings as 2Captcha sends them.
 */
export function solutionValue(solution: Solution): {
  request: string | Record<string, string> | readonly Record<string, string>[];
  extra: Record<string, string>;
} {
  switch (solution.kind) {
    case 'text':
      return { request: solution.text, extra: solution.userAgent === undefined ? {} : userAgentFields(solution.userAgent) };
    case 'geetest':
      return {
        request: {
          geetest_challenge: solution.challenge,
          geetest_validate: solution.validate,
          geetest_seccode: solution.seccode,
        },
        extra: {},
      };
    case 'cells':
      return { request: `[${solution.cells.join(', ')}]`, extra: {} };
    case 'clearance':
      return { request: solution.cookie, extra: userAgentFields(solution.userAgent) };
    case 'object':
      return { request: { ...solution.fields }, extra: {} };
    case 'points':
      return { request: solution.points.map(({ x, y }) => ({ x: String(x), y: String(y) })), extra: {} };
  }
}

/** Coordinates as one line, as 2Captcha writes them: `coordinates:x=39,y=59;x=252,y=72`. */
function pointsText(points: readonly { readonly x: number; readonly y: number }[]): string {
  return `coordinates:${points.map(({ x, y }) => `x=${x},y=${y}`).join(';')}`;
}

function userAgentFields(userAgent: string): Record<string, string> {
  return { useragent: userAgent, user_agent: userAgent };
}

/** The answer as one line of text: what follows `OK|`, what a pingback sends as `code`, one slot of an `ids` answer. */
export function solutionText(solution: Solution): string {
  if (solution.kind === 'points') return pointsText(solution.points);
  const { request } = solutionValue(solution);
  return typeof request === 'string' ? request : JSON.stringify(request);
}

/** The reply to res.php `get` (and, with a price, `get2`) for a solved task. */
export function solutionReply(solution: Solution, price?: string): Reply {
  const { request, extra } = solutionValue(solution);
  const withPrice = price === undefined ? extra : { ...extra, price };
  if (typeof request !== 'string' && solution.kind !== 'points') {
    // 2Captcha: "the server will always return JSON for GeeTest"; so for the other object answers.
    return { plain: '', json: { status: 1, request, ...withPrice }, jsonOnly: true };
  }
  const text = solutionText(solution);
  const plain = price === undefined ? `OK|${text}` : `OK|${text}|${price}`;
  return { plain, json: { status: 1, request, ...withPrice } };
}

// ---- decoding, for clients ---------------------------------------------------------------------

/** What a client reads in an answer, whichever service and dialect sent it. */
export type ParsedAnswer =
  /** `OK|value` or `{"status":1,"request":value}`; `extra` holds the other JSON fields. */
  | { readonly kind: 'ok'; readonly value: unknown; readonly extra: Readonly<Record<string, unknown>> }
  /** A bare success value: a balance, `OK_REPORT_RECORDED`. */
  | { readonly kind: 'value'; readonly value: string }
  /** A protocol code (known or not), with `error_text` when the service sent one. */
  | { readonly kind: 'code'; readonly code: string; readonly errorText?: string }
  /** Not a protocol answer at all: empty, HTML, truncated JSON, ... */
  | { readonly kind: 'garbled'; readonly reason: string };

/** Codes as the services write them: `ERROR_*`, the few without the prefix, and `ERROR: 1004`. */
const CODE_PATTERN = /^(ERROR_[A-Z0-9_]+|IP_BANNED|MAX_USER_TURN|TOO_MANY_BAD_IMAGES|REPORT_NOT_RECORDED|CAPCHA_NOT_READY|CAPTCHA_NOT_READY|ERROR:\s?[0-9]+)$/;
const SUCCESS_VALUES = new Set(['OK_REPORT_RECORDED']);

/** `ERROR:1004` and `ERROR: 1004` are the same code. */
function normalizeCode(code: string): string {
  const limit = /^ERROR:\s?([0-9]+)$/.exec(code);
  return limit ? `ERROR: ${limit[1]}` : code;
}

/**
 * Reads an in.php / res.php answer by its content, not its Content-Type (vendors do not document
 * one). Tolerates integer or string ids, `OK|` answers that contain `|`, and codes in either form.
 */
export function parseAnswer(body: string): ParsedAnswer {
  const text = body.trim();
  if (text === '') return { kind: 'garbled', reason: 'empty body' };
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { kind: 'garbled', reason: 'malformed JSON' };
    }
    if (json === null || typeof json !== 'object' || !('status' in json) || !('request' in json)) {
      return { kind: 'garbled', reason: 'JSON without status and request' };
    }
    const { status, request, ...extra } = json as { status: unknown; request: unknown } & Record<string, unknown>;
    if (Number(status) === 1) return { kind: 'ok', value: request, extra };
    if (Number(status) === 0 && (typeof request === 'string' || typeof request === 'number')) {
      const errorText = typeof extra.error_text === 'string' ? extra.error_text : undefined;
      return { kind: 'code', code: normalizeCode(String(request).trim()), ...(errorText === undefined ? {} : { errorText }) };
    }
    return { kind: 'garbled', reason: `JSON status ${String(status)}` };
  }
  if (text.startsWith('OK|')) return { kind: 'ok', value: text.slice(3), extra: {} };
  if (SUCCESS_VALUES.has(text) || /^-?[0-9]+(\.[0-9]+)?$/.test(text)) return { kind: 'value', value: text };
  if (CODE_PATTERN.test(text)) return { kind: 'code', code: normalizeCode(text) };
  return { kind: 'garbled', reason: text.startsWith('<') ? 'an HTML page' : 'not a protocol answer' };
}
