/**
 * The JSON createTask API's errors: `errorId` numbers as 2Captcha (v2) and Anti-Captcha number
 * them (they agree on 1 to 23), and the code and description each one is sent with. Every v1
 * code maps to one of them (the compiler checks that each catalog code has an entry), so a task
 * fails the same way in either dialect. Where a v1 code has no v2 equivalent, the nearest number
 * is sent with the v1 code's own name.
 */
import { ERROR_CATALOG, type ErrorCode } from './catalog.js';

export interface V2Error {
  readonly errorId: number;
  readonly errorCode: string;
  readonly errorDescription: string;
}

/** The createTask API's own codes, with the numbers and meanings the vendors document. */
export const V2_CODES = {
  ERROR_KEY_DOES_NOT_EXIST: { errorId: 1, errorDescription: 'Account authorization key not found in the system.' },
  ERROR_NO_SLOT_AVAILABLE: { errorId: 2, errorDescription: 'No idle workers are available at the moment; retry in a few seconds.' },
  ERROR_ZERO_CAPTCHA_FILESIZE: { errorId: 3, errorDescription: 'The size of the captcha you are uploading is less than 100 bytes.' },
  ERROR_TOO_BIG_CAPTCHA_FILESIZE: { errorId: 4, errorDescription: 'The size of the captcha you are uploading is too big.' },
  ERROR_PAGEURL: { errorId: 5, errorDescription: '`websiteURL` is missing or is not an absolute http(s) URL.' },
  ERROR_ZERO_BALANCE: { errorId: 10, errorDescription: 'Account has zero or negative balance.' },
  ERROR_IP_NOT_ALLOWED: { errorId: 11, errorDescription: 'Request with the current account key is not allowed from your IP.' },
  ERROR_CAPTCHA_UNSOLVABLE: { errorId: 12, errorDescription: 'The captcha could not be solved.' },
  ERROR_BAD_DUPLICATES: { errorId: 13, errorDescription: 'The 100% recognition feature did not work due to lack of matching answers.' },
  ERROR_NO_SUCH_METHOD: { errorId: 14, errorDescription: 'Request to the API made with a method that does not exist.' },
  ERROR_IMAGE_TYPE_NOT_SUPPORTED: { errorId: 15, errorDescription: 'Could not determine the captcha file type, or it is not JPEG, PNG or GIF.' },
  ERROR_NO_SUCH_CAPCHA_ID: { errorId: 16, errorDescription: 'The task you are requesting does not exist, or has expired.' },
  ERROR_IP_BLOCKED: { errorId: 21, errorDescription: 'Your IP is blocked due to API inproper use.' },
  ERROR_TASK_ABSENT: { errorId: 22, errorDescription: 'The `task` property is empty or not set in the createTask call.' },
  ERROR_TASK_NOT_SUPPORTED: { errorId: 23, errorDescription: 'The task type is not supported, or is spelt wrongly.' },
  ERROR_PROXY_CONNECT_REFUSED: { errorId: 25, errorDescription: 'Could not connect to the proxy.' },
  ERROR_RECAPTCHA_INVALID_SITEKEY: { errorId: 31, errorDescription: 'The sitekey is missing or invalid.' },
  ERROR_TOKEN_EXPIRED: { errorId: 34, errorDescription: 'The captcha provider said the challenge expired.' },
  ERROR_BAD_PARAMETERS: { errorId: 110, errorDescription: 'Required parameters are missing or have the wrong format.' },
  ERROR_BAD_PROXY: { errorId: 130, errorDescription: 'The proxy is malformed, not allowed, or was marked bad.' },
} as const satisfies Record<string, { errorId: number; errorDescription: string }>;

export type V2Code = keyof typeof V2_CODES;

/** The v2 answer to each v1 code: the v2 code it becomes, or `same` to keep the v1 name with `errorId`. */
const FROM_V1: Record<Exclude<ErrorCode, 'CAPCHA_NOT_READY' | 'CAPTCHA_NOT_READY'>, V2Code | { readonly same: number }> = {
  ERROR_WRONG_USER_KEY: 'ERROR_KEY_DOES_NOT_EXIST',
  ERROR_KEY_DOES_NOT_EXIST: 'ERROR_KEY_DOES_NOT_EXIST',
  // In v1 (CaptchaAI) this code means "every thread is busy"; in v2 that is ERROR_NO_SLOT_AVAILABLE.
  // Where the 2captcha dialect uses it for an empty balance, the route says so itself.
  ERROR_ZERO_BALANCE: 'ERROR_NO_SLOT_AVAILABLE',
  IP_BANNED: 'ERROR_IP_BLOCKED',
  ERROR_IP_NOT_ALLOWED: 'ERROR_IP_NOT_ALLOWED',
  ERROR_BAD_PARAMETERS: 'ERROR_BAD_PARAMETERS',
  ERROR_PAGEURL: 'ERROR_PAGEURL',
  ERROR_WRONG_GOOGLEKEY: 'ERROR_RECAPTCHA_INVALID_SITEKEY',
  ERROR_GOOGLEKEY: 'ERROR_RECAPTCHA_INVALID_SITEKEY',
  ERROR_BAD_TOKEN_OR_PAGEURL: { same: 110 },
  ERROR_BAD_PROXY: 'ERROR_BAD_PROXY',
  ERROR_PROXY_FORMAT: 'ERROR_BAD_PROXY',
  ERROR_UPLOAD: 'ERROR_IMAGE_TYPE_NOT_SUPPORTED',
  ERROR_ZERO_CAPTCHA_FILESIZE: 'ERROR_ZERO_CAPTCHA_FILESIZE',
  ERROR_TOO_BIG_CAPTCHA_FILESIZE: 'ERROR_TOO_BIG_CAPTCHA_FILESIZE',
  ERROR_WRONG_FILE_EXTENSION: 'ERROR_IMAGE_TYPE_NOT_SUPPORTED',
  ERROR_IMAGE_TYPE_NOT_SUPPORTED: 'ERROR_IMAGE_TYPE_NOT_SUPPORTED',
  ERROR_CAPTCHAIMAGE_BLOCKED: { same: 15 },
  TOO_MANY_BAD_IMAGES: { same: 2 },
  // Transient faults: clients of the createTask API retry ERROR_NO_SLOT_AVAILABLE, so they get its
  // number, with the real code's name.
  ERROR_SERVER_ERROR: { same: 2 },
  ERROR_INTERNAL_SERVER_ERROR: { same: 2 },
  ERROR_NO_SLOT_AVAILABLE: 'ERROR_NO_SLOT_AVAILABLE',
  MAX_USER_TURN: { same: 2 },
  ERROR_CAPTCHA_UNSOLVABLE: 'ERROR_CAPTCHA_UNSOLVABLE',
  ERROR_PROXY_CONNECTION_FAILED: 'ERROR_PROXY_CONNECT_REFUSED',
  ERROR_TOKEN_EXPIRED: 'ERROR_TOKEN_EXPIRED',
  ERROR_BAD_DUPLICATES: 'ERROR_BAD_DUPLICATES',
  ERROR_WRONG_ID_FORMAT: 'ERROR_NO_SUCH_CAPCHA_ID',
  ERROR_WRONG_CAPTCHA_ID: 'ERROR_NO_SUCH_CAPCHA_ID',
  ERROR_NO_SUCH_CAPCHA_ID: 'ERROR_NO_SUCH_CAPCHA_ID',
  ERROR_EMPTY_ACTION: 'ERROR_NO_SUCH_METHOD',
  ERROR_DUPLICATE_REPORT: { same: 16 },
  ERROR_REPORT_NOT_RECORDED: { same: 16 },
  REPORT_NOT_RECORDED: { same: 16 },
  ERROR_IP_ADDRES: { same: 11 },
  // 2Captcha's request-rate blocks: a block on the caller, as ERROR_IP_BLOCKED is.
  'ERROR: 1001': { same: 21 },
  'ERROR: 1002': { same: 21 },
  'ERROR: 1003': { same: 21 },
  'ERROR: 1004': { same: 21 },
  'ERROR: 1005': { same: 21 },
};

export function v2Error(code: V2Code, description?: string): V2Error {
  const entry = V2_CODES[code];
  return { errorId: entry.errorId, errorCode: code, errorDescription: description ?? entry.errorDescription };
}

/** The v2 error for a v1 code; `detail` (the v1 answer's error_text) describes it when given. */
export function v2ErrorFor(code: string, detail?: string): V2Error {
  const mapped = (FROM_V1 as Record<string, V2Code | { same: number } | undefined>)[code];
  if (mapped === undefined) return v2Error('ERROR_CAPTCHA_UNSOLVABLE', detail);
  if (typeof mapped === 'string') return v2Error(mapped, detail);
  const description = detail ?? ERROR_CATALOG[code as ErrorCode]?.description ?? code;
  return { errorId: mapped.same, errorCode: code, errorDescription: description };
}

/** Each v1 code's v2 answer, for the generated docs. */
export function v2Mapping(code: ErrorCode): { readonly errorId: number; readonly errorCode: string } | undefined {
  if (code === 'CAPCHA_NOT_READY' || code === 'CAPTCHA_NOT_READY') return undefined;
  const { errorId, errorCode } = v2ErrorFor(code);
  return { errorId, errorCode };
}
