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
 */
export function solutionValue(solution: Solution): { request: string | Record<string, string>; extra: Record<string, string> } {
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
  }
}

function userAgentFields(userAgent: string): Record<string, string> {
  return { useragent: userAgent, user_agent: userAgent };
}

/** The answer as one line of text: what follows `OK|`, what a pingback sends as `code`, one slot of an `ids` answer. */
export function solutionText(solution: Solution): string {
  const { request } = solutionValue(solution);
  return typeof request === 'string' ? request : JSON.stringify(request);
}

/** The reply to res.php `get` (and, with a price, `get2`) for a solved task. */
export function solutionReply(solution: Solution, price?: string): Reply {
  const { request, extra } = solutionValue(solution);
  const withPrice = price === undefined ? extra : { ...extra, price };
  if (typeof request !== 'string') {
    // 2Captcha: "the server will always return JSON for GeeTest".
    return { plain: '', json: { status: 1, request, ...withPrice }, jsonOnly: true };
  }
  const plain = price === undefined ? `OK|${request}` : `OK|${request}|${price}`;
  return { plain, json: { status: 1, request, ...withPrice } };
}
