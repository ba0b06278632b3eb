/**
 * The error catalog: every code the in.php / res.php protocol family is known to answer,
 * with what it means, when Solvebox answers it, what the caller should do, and how a client
 * should react. This is the single source of truth: the server picks codes from here, the
 * client derives its retry policy from `retry`, the CLI prints `fix`, and docs/errors.md is
 * generated from it (a test fails when the two drift apart).
 *
 * Codes are protocol tokens and keep their original spelling, typos included
 * (`CAPCHA_NOT_READY`, `ERROR_IP_ADDRES`). Never rename or reuse a code.
 */

/** How a client should react to a code. */
export type RetryClass =
  /** The request itself is wrong (key, parameters, image). Retrying the same request cannot succeed. */
  | 'fix-request'
  /** A transient fault on the service side. Retry the same request after `delayMs`, with backoff. */
  | 'retry-later'
  /** All of the account's threads are busy. Retry once one of your own tasks finishes. */
  | 'wait-for-thread'
  /** This task is over and failed. Polling it again will not change that; submit a new task if wanted. */
  | 'task-failed'
  /** The task is still being solved. Poll again after `delayMs`. */
  | 'not-ready';

export type Endpoint = 'in.php' | 'res.php';

/** Which services document the code. */
export type Vendor = 'captchaai' | '2captcha';

export interface CatalogEntry {
  readonly endpoints: readonly Endpoint[];
  /** The vendors' meaning, short; sent as `error_text` in JSON answers. */
  readonly description: string;
  /** When Solvebox answers this code, or why it never does. */
  readonly cause: string;
  /** What the caller should change or do. */
  readonly fix: string;
  readonly retry: RetryClass;
  /** Suggested wait before the next attempt, for `retry-later`, `wait-for-thread` and `not-ready`. */
  readonly delayMs?: number;
  /**
   * A block on the caller (IP or key) that lasts `delayMs`: backing off into it only extends it, so
   * clients should wait it out in one go, or fail fast.
   */
  readonly ban?: boolean;
  readonly vendors: readonly Vendor[];
  /** Whether the Solvebox server ever answers this code (the rest are known so that clients classify them). */
  readonly served: boolean;
}

const BOTH: readonly Vendor[] = ['captchaai', '2captcha'];
const IN: readonly Endpoint[] = ['in.php'];
const RES: readonly Endpoint[] = ['res.php'];
const ANY: readonly Endpoint[] = ['in.php', 'res.php'];

export const ERROR_CATALOG = {
  // ---- authentication and account -------------------------------------------------------
  ERROR_WRONG_USER_KEY: {
    endpoints: ANY,
    description: "You've provided key parameter value in incorrect format, it should contain 32 symbols.",
    cause: 'The `key` parameter is missing, or is not exactly 32 characters long.',
    fix: 'Send your 32-character API key in the `key` parameter.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_KEY_DOES_NOT_EXIST: {
    endpoints: ANY,
    description: "The key you've provided does not exist, or the account has no threads.",
    cause: 'The key is well-formed but unknown, the account is disabled, or the account has no threads (a plan of 0 threads).',
    fix: 'Check the key (`solvebox keys list`), or give the account threads.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_ZERO_BALANCE: {
    endpoints: IN,
    description: "You don't have free threads.",
    cause:
      "Dialect `captchaai` (the default): every thread of the account's plan is busy; a thread is held from the accepted submit until the task is solved or fails. Dialect `2captcha`: the balance is below the price of the task's type (`--prices`), as on 2Captcha.",
    fix: 'Wait for one of your tasks to finish, lower your concurrency to the number of threads, or get more threads.',
    retry: 'wait-for-thread',
    delayMs: 5_000,
    vendors: BOTH,
    served: true,
  },
  IP_BANNED: {
    endpoints: ANY,
    description: 'Your IP address is banned due to many frequent attempts to access the server using wrong authorization keys.',
    cause: 'Too many failed authentications (missing, malformed or unknown keys) came from this IP: by default 5 within 60 s ban the IP for 300 s.',
    fix: 'Fix the API key your software sends, then wait for the ban to lift (5 minutes by default).',
    retry: 'retry-later',
    delayMs: 300_000,
    ban: true,
    vendors: BOTH,
    served: true,
  },
  ERROR_IP_NOT_ALLOWED: {
    endpoints: ANY,
    description: 'The request was sent from an IP that is not on the allow-list of the account.',
    cause: 'Not answered by Solvebox: accounts have no IP allow-list.',
    fix: "Add the caller's IP to the account's allowed IPs on the service.",
    retry: 'fix-request',
    vendors: ['2captcha'],
    served: false,
  },

  // ---- in.php: task parameters ----------------------------------------------------------
  ERROR_BAD_PARAMETERS: {
    endpoints: ANY,
    description: 'Required parameters are missing or have the wrong format.',
    cause:
      'in.php: `method` is missing or unknown, a required parameter of the method is missing, or a parameter has the wrong type or range (see docs/protocol.md). res.php: `action` is not one Solvebox knows, `ids` lists more than 100 ids, or the request body could not be read.',
    fix: "Compare the request with the method's parameter table and send every required parameter in the documented format.",
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_PAGEURL: {
    endpoints: IN,
    description: '`pageurl` parameter is missing in the request.',
    cause:
      'A token method (userrecaptcha, turnstile, geetest, cloudflare_challenge) was sent without `pageurl`, or with one that is not an absolute http(s) URL.',
    fix: 'Send the full URL of the page where the captcha is shown in `pageurl`.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_WRONG_GOOGLEKEY: {
    endpoints: IN,
    description: '`googlekey` parameter is missing in the request.',
    cause: '`method=userrecaptcha` was sent without a `googlekey` parameter.',
    fix: 'Send the reCAPTCHA sitekey (`data-sitekey` / `k`) in `googlekey`.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_GOOGLEKEY: {
    endpoints: IN,
    description: 'Sitekey value provided in the request is incorrect: it is blank or malformed.',
    cause: '`googlekey` is present but blank, or is not a 40-character reCAPTCHA sitekey (letters, digits, `-`, `_`).',
    fix: 'Copy the sitekey exactly from the page (`data-sitekey`, or the `k` parameter of the anchor iframe).',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_BAD_TOKEN_OR_PAGEURL: {
    endpoints: ANY,
    description: 'The sitekey and pageurl pair is invalid: the captcha is not on that page, or is loaded in an iframe from another domain.',
    cause:
      'res.php: a solver reported that the sitekey does not belong to the page. in.php: the same sitekey/pageurl pair was reported invalid recently (remembered 10 minutes by default), so it is refused at once.',
    fix: "Check that the sitekey is the one on that page; for iframes send the URL of the iframe's page.",
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_BAD_PROXY: {
    endpoints: IN,
    description: 'The proxy is marked bad, or is malformed.',
    cause:
      'The `proxy` is not `host:port` or `login:password@host:port`, `proxytype` is not HTTP/HTTPS/SOCKS4/SOCKS5, proxies are not enabled for the account, or a solver could not connect through this proxy in the last 10 minutes.',
    fix: 'Send a working proxy in the documented format, or ask the operator to enable proxies for your key.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_PROXY_FORMAT: {
    endpoints: IN,
    description: 'The proxy string is malformed.',
    cause: 'Not answered by Solvebox: a malformed proxy answers ERROR_BAD_PROXY, as on CaptchaAI.',
    fix: 'Send the proxy as `login:password@host:port` or `host:port`.',
    retry: 'fix-request',
    vendors: ['2captcha'],
    served: false,
  },

  // ---- in.php: images ---------------------------------------------------------------------
  ERROR_UPLOAD: {
    endpoints: IN,
    description: 'The server cannot get the file data from your POST request, or the base64 is invalid.',
    cause:
      '`method=post` without a `file` part, `method=base64` without `body`, a request body that cannot be read (broken multipart, malformed JSON), or base64 that does not decode (a `data:` URI prefix, line breaks, and `+` turned into spaces by a missing URL-encoding are tolerated).',
    fix: 'Send the image as a multipart part named `file` (method=post) or as clean base64 in `body` (method=base64).',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_ZERO_CAPTCHA_FILESIZE: {
    endpoints: IN,
    description: 'Your captcha image is smaller than 100 bytes.',
    cause: 'The image has fewer bytes than the configured minimum (100 by default).',
    fix: 'Check that you send the image itself, not an empty or truncated file.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_TOO_BIG_CAPTCHA_FILESIZE: {
    endpoints: IN,
    description: 'Your captcha image is larger than 100 kB.',
    cause:
      'The image has more bytes than the configured maximum (100 kB by default), its header claims a side longer than the configured maximum (1000 px by default; this also stops decompression bombs), or the whole request body is larger than the server accepts.',
    fix: 'Crop, scale down or recompress the image below the limits.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_WRONG_FILE_EXTENSION: {
    endpoints: IN,
    description: 'Your captcha file has a wrong extension; accepted are jpg, jpeg, gif and png.',
    cause: 'The uploaded `file` part has a filename whose extension is not jpg, jpeg, png or gif.',
    fix: 'Name the upload after its real type, for example `captcha.png`.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_IMAGE_TYPE_NOT_SUPPORTED: {
    endpoints: IN,
    description: 'The server cannot recognise the file type of your image.',
    cause: 'The bytes do not start with a JPEG, PNG or GIF signature, or the image header after the signature cannot be read.',
    fix: 'Convert the image to JPEG, PNG or GIF.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_CAPTCHAIMAGE_BLOCKED: {
    endpoints: IN,
    description: 'The image is on the list of images the service refuses to solve.',
    cause: 'Not answered by Solvebox.',
    fix: 'Do not send this image again.',
    retry: 'fix-request',
    vendors: BOTH,
    served: false,
  },
  TOO_MANY_BAD_IMAGES: {
    endpoints: IN,
    description: 'Too many of your images could not be recognised; submission is paused.',
    cause: 'Not answered by Solvebox.',
    fix: 'Check what images you send, then retry later.',
    retry: 'retry-later',
    delayMs: 60_000,
    vendors: ['2captcha'],
    served: false,
  },

  // ---- service faults and rate limits -----------------------------------------------------
  ERROR_SERVER_ERROR: {
    endpoints: ANY,
    description: 'Transient server error; retry in about 10 seconds.',
    cause: 'Storage could not serve the request (for example SQLite stayed locked past its busy timeout, or Redis is unreachable). Nothing was changed.',
    fix: 'Retry the same request after about 10 seconds, with backoff. Operators: check the storage backend.',
    retry: 'retry-later',
    delayMs: 10_000,
    vendors: ['captchaai'],
    served: true,
  },
  ERROR_INTERNAL_SERVER_ERROR: {
    endpoints: ANY,
    description: 'Processing backend error; retry in about 10 seconds.',
    cause:
      'The solver backend for this method is failing (its circuit is open after repeated crashes), or an unexpected internal error happened. Nothing was changed.',
    fix: "Retry after about 10 seconds, with backoff. Operators: check the solver backend's logs.",
    retry: 'retry-later',
    delayMs: 10_000,
    vendors: ['captchaai'],
    served: true,
  },
  ERROR_NO_SLOT_AVAILABLE: {
    endpoints: IN,
    description: 'No slot available: your maximum bid is below the current rate, or your queue of unassigned tasks is too long.',
    cause: "Dialect `2captcha`: every thread of the account's plan is busy (under `captchaai` that answers ERROR_ZERO_BALANCE, as on CaptchaAI).",
    fix: 'Retry in a few seconds.',
    retry: 'retry-later',
    delayMs: 5_000,
    vendors: ['2captcha'],
    served: true,
  },
  MAX_USER_TURN: {
    endpoints: IN,
    description: 'More than 60 in.php requests within 3 seconds; the key is paused for 10 seconds.',
    cause: 'Dialect `2captcha`: more than 60 submits of one key within 3 s (counted per API node); the key is paused for 10 s.',
    fix: 'Wait 10 seconds and leave at least 100 ms between submits.',
    retry: 'retry-later',
    delayMs: 10_000,
    vendors: ['2captcha'],
    served: true,
  },
  'ERROR: 1001': {
    endpoints: ANY,
    description: 'Blocked for 10 minutes after 120 ERROR_NO_SLOT_AVAILABLE answers within a minute.',
    cause:
      'Dialect `2captcha`: more than 120 ERROR_NO_SLOT_AVAILABLE answers to one key within a minute (per API node); its submits are refused for 10 minutes.',
    fix: 'Wait 10 minutes; raise your bid or slow down.',
    retry: 'retry-later',
    delayMs: 600_000,
    ban: true,
    vendors: ['2captcha'],
    served: true,
  },
  'ERROR: 1002': {
    endpoints: ANY,
    description: 'Blocked for 5 minutes after 120 ERROR_ZERO_BALANCE answers within a minute.',
    cause: 'Dialect `2captcha`: more than 120 ERROR_ZERO_BALANCE answers to one key within a minute (per API node); its submits are refused for 5 minutes.',
    fix: 'Wait 5 minutes; top up the balance before submitting again.',
    retry: 'retry-later',
    delayMs: 300_000,
    ban: true,
    vendors: ['2captcha'],
    served: true,
  },
  'ERROR: 1003': {
    endpoints: ANY,
    description: 'Blocked for 30 seconds: too many ERROR_NO_SLOT_AVAILABLE answers compared with captchas sent.',
    cause: 'Not answered by Solvebox.',
    fix: 'Wait 30 seconds and submit more slowly.',
    retry: 'retry-later',
    delayMs: 30_000,
    ban: true,
    vendors: ['2captcha'],
    served: false,
  },
  'ERROR: 1004': {
    endpoints: ANY,
    description: 'IP blocked for 10 minutes after 5 requests with an incorrect key.',
    cause: 'Not answered by Solvebox: it answers IP_BANNED instead.',
    fix: 'Fix the API key, then wait 10 minutes.',
    retry: 'retry-later',
    delayMs: 600_000,
    ban: true,
    vendors: ['2captcha'],
    served: false,
  },
  'ERROR: 1005': {
    endpoints: ANY,
    description: 'Blocked for 5 minutes: too many res.php requests for the number of captchas sent.',
    cause: 'Not answered by Solvebox.',
    fix: 'Wait 5 minutes; poll every 5 seconds at most and only after the first-poll delay.',
    retry: 'retry-later',
    delayMs: 300_000,
    ban: true,
    vendors: ['2captcha'],
    served: false,
  },

  // ---- res.php: results -------------------------------------------------------------------
  CAPCHA_NOT_READY: {
    endpoints: RES,
    description: 'The captcha is not solved yet.',
    cause: 'The task is queued or being solved, and its deadline has not passed.',
    fix: 'Poll again in 5 seconds.',
    retry: 'not-ready',
    delayMs: 5_000,
    vendors: BOTH,
    served: true,
  },
  CAPTCHA_NOT_READY: {
    endpoints: RES,
    description: 'The captcha is not solved yet (alternative spelling used by some services).',
    cause: 'Not answered by Solvebox, which spells it CAPCHA_NOT_READY like the vendors.',
    fix: 'Poll again in 5 seconds.',
    retry: 'not-ready',
    delayMs: 5_000,
    vendors: [],
    served: false,
  },
  ERROR_CAPTCHA_UNSOLVABLE: {
    endpoints: RES,
    description: 'The captcha could not be solved.',
    cause:
      'The solver gave up or failed on every attempt (3 by default), declined the task (the OCR model doubted its reading, or the image pixels could not be decoded) with no fallback solver configured, the task passed its deadline (90 s for images, 300 s for token tasks by default), or no solver is configured for the method.',
    fix: 'Submit a fresh task; if it keeps failing, check the captcha parameters or the solver routing.',
    retry: 'task-failed',
    vendors: BOTH,
    served: true,
  },
  ERROR_PROXY_CONNECTION_FAILED: {
    endpoints: RES,
    description: 'The captcha could not be loaded through your proxy; the proxy is marked bad for 10 minutes.',
    cause: "The solver could not connect through the task's proxy. The proxy is then refused by in.php with ERROR_BAD_PROXY for 10 minutes.",
    fix: 'Use another proxy, or check that this one accepts connections from the solver.',
    retry: 'task-failed',
    vendors: BOTH,
    served: true,
  },
  ERROR_TOKEN_EXPIRED: {
    endpoints: RES,
    description: 'The GeeTest challenge expired before it could be solved.',
    cause: 'A relayed task: the upstream provider that had it answered this code (docs/relay.md).',
    fix: 'Fetch a fresh `challenge` from the page and submit a new task at once.',
    retry: 'task-failed',
    vendors: ['2captcha'],
    served: true,
  },
  ERROR_BAD_DUPLICATES: {
    endpoints: RES,
    description: '100% recognition mode ran out of attempts before enough answers matched.',
    cause: 'A relayed task: the upstream provider that had it answered this code (docs/relay.md).',
    fix: 'Submit again, or turn the 100% recognition option off.',
    retry: 'task-failed',
    vendors: ['2captcha'],
    served: true,
  },
  ERROR_WRONG_ID_FORMAT: {
    endpoints: RES,
    description: 'The captcha id has the wrong format: it should contain digits only.',
    cause: '`id` (or one entry of `ids`) is missing, empty, or not made of digits only.',
    fix: 'Send the numeric id that in.php returned.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_WRONG_CAPTCHA_ID: {
    endpoints: RES,
    description: 'You have provided a wrong captcha id.',
    cause:
      'No task with this id belongs to this key: it never existed, it belongs to another account, or its result expired (15 minutes after it finished, by default).',
    fix: 'Use the id in.php returned to this key, and fetch the result before it expires.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },
  ERROR_NO_SUCH_CAPCHA_ID: {
    endpoints: RES,
    description: 'No captcha with this id (spelling of the newer APIs).',
    cause: 'Not answered by Solvebox, which answers ERROR_WRONG_CAPTCHA_ID.',
    fix: 'Use the id in.php returned to this key.',
    retry: 'fix-request',
    vendors: ['2captcha'],
    served: false,
  },
  ERROR_EMPTY_ACTION: {
    endpoints: RES,
    description: 'The `action` parameter is missing or empty.',
    cause: 'res.php was called without `action`, or with an empty one.',
    fix: 'Send `action=get`, `get2`, `getbalance`, `reportgood` or `reportbad`.',
    retry: 'fix-request',
    vendors: BOTH,
    served: true,
  },

  // ---- res.php: reports ---------------------------------------------------------------------
  ERROR_DUPLICATE_REPORT: {
    endpoints: RES,
    description: 'You have already reported this captcha.',
    cause: 'A reportgood or reportbad was already recorded for this task.',
    fix: 'Report each task once.',
    retry: 'fix-request',
    vendors: ['2captcha'],
    served: true,
  },
  ERROR_REPORT_NOT_RECORDED: {
    endpoints: RES,
    description: 'The report was not recorded.',
    cause: 'The task has no answer to report on: it is still being solved, or it failed.',
    fix: 'Report only tasks that returned an answer, and within 15 minutes.',
    retry: 'fix-request',
    vendors: ['2captcha'],
    served: true,
  },
  REPORT_NOT_RECORDED: {
    endpoints: RES,
    description: 'The report was not recorded (older spelling).',
    cause: 'Not answered by Solvebox, which uses the current spelling ERROR_REPORT_NOT_RECORDED.',
    fix: 'Report only tasks that returned an answer, and within 15 minutes.',
    retry: 'fix-request',
    vendors: ['2captcha'],
    served: false,
  },
  ERROR_IP_ADDRES: {
    endpoints: RES,
    description: 'Pingback registration must be sent from the IP being registered.',
    cause: 'Not answered by Solvebox: pingback addresses need no registration.',
    fix: 'Register the pingback address from the server it points to.',
    retry: 'fix-request',
    vendors: ['2captcha'],
    served: false,
  },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Codes the Solvebox server answers (the rest exist in the catalog so that clients classify them). */
export type ServedCode = {
  [C in ErrorCode]: (typeof ERROR_CATALOG)[C]['served'] extends true ? C : never;
}[ErrorCode];

export function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code);
}

/** The catalog entry for a code, or undefined for a code no one has documented. */
export function catalogEntry(code: string): CatalogEntry | undefined {
  return isKnownCode(code) ? ERROR_CATALOG[code] : undefined;
}
