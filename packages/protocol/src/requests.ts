/** Request-level facts shared by both endpoints: keys, task ids and res.php actions. */

/** API keys are exactly 32 characters; anything else answers ERROR_WRONG_USER_KEY. */
export const KEY_LENGTH = 32;

export function isWellFormedKey(key: string | undefined): key is string {
  return key !== undefined && key.length === KEY_LENGTH;
}

/** Task ids are decimal digits; anything else answers ERROR_WRONG_ID_FORMAT. */
export function isTaskId(id: string): boolean {
  return /^[0-9]+$/.test(id);
}

/** res.php `ids=` takes at most this many ids per request. */
export const MAX_IDS_PER_REQUEST = 100;

export const RES_ACTIONS = {
  get: 'The answer of one task (`id`), or of several (`ids`, comma-separated, answers joined by `|`).',
  get2: 'Like `get` for one task, plus its price: `OK|answer|price`, or `"price"` in JSON.',
  getbalance: 'The account balance, a bare number.',
  reportgood: 'Report a correct answer: `OK_REPORT_RECORDED`.',
  reportbad: 'Report a wrong answer: `OK_REPORT_RECORDED`.',
} as const;

export type ResAction = keyof typeof RES_ACTIONS;

/**
 * Solvebox's idempotent submits: in.php takes an optional `idempotency_key`, and answers requests
 * that carry one with this header, so that a client knows the server honours it (CaptchaAI and
 * 2Captcha ignore the parameter and send no header) and may retry an ambiguous submit safely.
 */
export const IDEMPOTENCY_PARAM = 'idempotency_key';
export const IDEMPOTENCY_HEADER = 'solvebox-idempotency';
