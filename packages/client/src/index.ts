/**
 * @solvebox/client: a client for Solvebox, CaptchaAI and 2Captcha (the in.php / res.php protocol), and
 * with `protocol: 'v2'` for the JSON createTask API of 2Captcha, Anti-Captcha and CapMonster Cloud.
 * No runtime dependencies besides @solvebox/protocol; runs in Node 20+ and browsers.
 * @module
 */
export {
  Solvebox,
  type CallOptions,
  type ProgressEvent,
  type RawAnswer,
  type ResultState,
  type SolveResult,
  type SolveboxOptions,
  type SubmitOptions,
  type WaitOptions,
} from './client.js';
export {
  AbortError,
  FixRequestError,
  RetryLaterError,
  SolveboxError,
  TaskFailedError,
  TimeoutError,
  TransportError,
  UnknownCodeError,
  WaitForThreadError,
  errorClassFor,
  errorForCode,
  type Endpoint,
  type ErrorKind,
} from './errors.js';
export {
  AnswerFormatError,
  decodeAnswer,
  type AnswerOf,
  type ClearanceAnswer,
  type GeetestAnswer,
  type ImageHints,
  type ProxyInput,
  type TaskInput,
  type TaskKind,
} from './tasks.js';
export type { ImageInput } from './images.js';
export { UnsupportedCallError } from './transport.js';
/** Verifies the signature of a Solvebox pingback (see docs/protocol.md, "Pingback"). */
export { verifyPingback, PINGBACK_SIGNATURE_HEADER } from '@solvebox/protocol';
export const VERSION = '0.1.0';
