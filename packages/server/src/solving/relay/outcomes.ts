/**
 * What the relay does with each answer an upstream gives: the one table of the relay's error
 * mapping, which the relay follows and docs/relay.md prints. An upstream's code either ends our
 * task with the res.php code of the same meaning (the client fixes its request), or moves the task
 * on to the next upstream (the fault is the upstream's, or its account's).
 */
import { catalogEntry, type SolverFailureCode } from '@solvebox/protocol';

export type UpstreamVerdict =
  /** The task ends with `code`; the runner sets our marks for proxy and pair failures, as for our own solvers. */
  | { readonly kind: 'end'; readonly code: SolverFailureCode }
  /** ERROR_CAPTCHA_UNSOLVABLE: the upstream's `unsolvable` setting says whether it ends the task or the next upstream tries. */
  | { readonly kind: 'unsolvable' }
  /** The next upstream gets the task; `fault`: it counts against this upstream's circuit breaker. */
  | { readonly kind: 'next'; readonly fault: boolean };

export interface OutcomeRow {
  /** The upstream's codes (v1 names; the client maps the JSON API's to them), or a description in parentheses. */
  readonly upstream: readonly string[];
  readonly verdict: UpstreamVerdict;
  /** What the client of the relay sees, and why. */
  readonly doc: string;
}

const end = (code: SolverFailureCode): UpstreamVerdict => ({ kind: 'end', code });
const NEXT_FAULT: UpstreamVerdict = { kind: 'next', fault: true };

export const OUTCOME_TABLE: readonly OutcomeRow[] = [
  {
    upstream: ['ERROR_CAPTCHA_UNSOLVABLE'],
    verdict: { kind: 'unsolvable' },
    doc: 'ERROR_CAPTCHA_UNSOLVABLE, or with `"unsolvable": "next"` the next upstream tries.',
  },
  {
    upstream: ['ERROR_PROXY_CONNECTION_FAILED', 'ERROR_BAD_PROXY', 'ERROR_PROXY_FORMAT'],
    verdict: end('ERROR_PROXY_CONNECTION_FAILED'),
    doc: 'ERROR_PROXY_CONNECTION_FAILED; the proxy is marked bad, so in.php refuses it with ERROR_BAD_PROXY for `--bad-proxy-ttl`.',
  },
  {
    upstream: ['ERROR_BAD_TOKEN_OR_PAGEURL', 'ERROR_PAGEURL', 'ERROR_WRONG_GOOGLEKEY', 'ERROR_GOOGLEKEY'],
    verdict: end('ERROR_BAD_TOKEN_OR_PAGEURL'),
    doc: 'ERROR_BAD_TOKEN_OR_PAGEURL; the sitekey/pageurl pair is marked bad, so in.php refuses it for `--bad-pair-ttl`.',
  },
  { upstream: ['ERROR_BAD_PARAMETERS'], verdict: end('ERROR_BAD_PARAMETERS'), doc: 'ERROR_BAD_PARAMETERS: the upstream refused the parameters.' },
  {
    upstream: [
      'ERROR_ZERO_CAPTCHA_FILESIZE',
      'ERROR_TOO_BIG_CAPTCHA_FILESIZE',
      'ERROR_WRONG_FILE_EXTENSION',
      'ERROR_IMAGE_TYPE_NOT_SUPPORTED',
      'ERROR_UPLOAD',
      'ERROR_CAPTCHAIMAGE_BLOCKED',
      'TOO_MANY_BAD_IMAGES',
    ],
    verdict: end('ERROR_CAPTCHA_UNSOLVABLE'),
    doc: 'ERROR_CAPTCHA_UNSOLVABLE: the upstream refused the image (res.php has no image code; our own in.php checks already passed it).',
  },
  { upstream: ['ERROR_BAD_DUPLICATES'], verdict: end('ERROR_BAD_DUPLICATES'), doc: 'ERROR_BAD_DUPLICATES: its workers could not agree on an answer.' },
  { upstream: ['ERROR_TOKEN_EXPIRED'], verdict: end('ERROR_TOKEN_EXPIRED'), doc: 'ERROR_TOKEN_EXPIRED: the GeeTest challenge expired.' },
  {
    upstream: ['ERROR_ZERO_BALANCE', 'ERROR_NO_SLOT_AVAILABLE', 'MAX_USER_TURN'],
    verdict: { kind: 'next', fault: false },
    doc: 'The next upstream: this one has no money or no free thread now (not a fault: its circuit stays closed).',
  },
  {
    upstream: ['ERROR_WRONG_USER_KEY', 'ERROR_KEY_DOES_NOT_EXIST', 'ERROR_IP_NOT_ALLOWED', 'IP_BANNED', 'ERROR_IP_ADDRES'],
    verdict: NEXT_FAULT,
    doc: "The next upstream: the upstream refuses our key or address, a fault of the relay's configuration, logged; never shown to the client, whose key is fine.",
  },
  {
    upstream: ['ERROR_SERVER_ERROR', 'ERROR_INTERNAL_SERVER_ERROR', 'ERROR: 1001', 'ERROR: 1002', 'ERROR: 1003', 'ERROR: 1004', 'ERROR: 1005'],
    verdict: NEXT_FAULT,
    doc: 'The next upstream, after the SDK retried once: the upstream is failing or limiting us.',
  },
  {
    upstream: ['ERROR_WRONG_CAPTCHA_ID', 'ERROR_NO_SUCH_CAPCHA_ID', 'ERROR_WRONG_ID_FORMAT'],
    verdict: NEXT_FAULT,
    doc: 'The next upstream: the upstream lost the task it accepted.',
  },
  {
    upstream: ['(transport: refused connection, HTTP 5xx, an HTML page, a garbled or empty body)'],
    verdict: NEXT_FAULT,
    doc: 'The next upstream, after the SDK retried where that is safe. A submit that may have arrived is repeated only with the same idempotency key.',
  },
  {
    upstream: ['(no answer within its `timeout`)'],
    verdict: NEXT_FAULT,
    doc: "The next upstream, if the task's deadline leaves time; else ERROR_CAPTCHA_UNSOLVABLE at the deadline.",
  },
  {
    upstream: ['(an answer of the wrong shape for the task type)'],
    verdict: NEXT_FAULT,
    doc: 'The next upstream; the answer is logged.',
  },
  {
    upstream: ['(any other code)'],
    verdict: end('ERROR_CAPTCHA_UNSOLVABLE'),
    doc: 'ERROR_CAPTCHA_UNSOLVABLE; the code is logged verbatim.',
  },
];

const BY_CODE = new Map(OUTCOME_TABLE.flatMap((row) => row.upstream.filter((c) => !c.startsWith('(')).map((code) => [code, row.verdict] as const)));

/** What an upstream's protocol code means for our task; undefined for codes no catalog knows (the caller logs them). */
export function verdictFor(code: string): UpstreamVerdict | undefined {
  const verdict = BY_CODE.get(code);
  if (verdict) return verdict;
  // A known code not in the table (a vendor quirk of the catalog): a fault of the upstream's if it
  // says to retry later, else the task ends.
  const entry = catalogEntry(code);
  if (!entry) return undefined;
  return entry.retry === 'retry-later' || entry.retry === 'wait-for-thread' ? NEXT_FAULT : end('ERROR_CAPTCHA_UNSOLVABLE');
}

export const UNKNOWN_CODE_VERDICT: UpstreamVerdict = end('ERROR_CAPTCHA_UNSOLVABLE');
