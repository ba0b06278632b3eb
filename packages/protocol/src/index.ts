/**
 * @solvebox/protocol: the in.php / res.php protocol as data and pure functions, shared by the
 * server, the client and the CLI. Zero runtime dependencies; runs in Node and browsers.
 * @module
 */
export { answerProblem } from './answer-check.js';
export type { TaskCard } from './console-card.js';
export {
  ERROR_CATALOG,
  catalogEntry,
  isKnownCode,
  type CatalogEntry,
  type Endpoint,
  type ErrorCode,
  type RetryClass,
  type ServedCode,
  type Vendor,
} from './errors/catalog.js';
export {
  TASK_TYPES,
  TOKEN_TASK_TYPES,
  WIDGET_TYPES,
  MEDIA_TYPES,
  OBJECT_ANSWER_WIDGETS,
  isTaskType,
  isTokenTask,
  isWidgetTask,
  isWidgetType,
  imagesOf,
  sitekeyPair,
  NO_IMAGE_HINTS,
  solutionKindFor,
  type BlsTask,
  type CellsSolution,
  type ClearanceSolution,
  type CloudflareChallengeTask,
  type GeetestSolution,
  type GeetestTask,
  type ImageFormat,
  type ImageHints,
  type ImageTask,
  type Proxy,
  type ProxyType,
  type RecaptchaTask,
  type Solution,
  type Task,
  type TaskSpec,
  type TaskType,
  type TextSolution,
  type TurnstileTask,
  type WidgetTask,
  type WidgetType,
  type MediaType,
  type PictureTask,
  type TextQuestionTask,
  type AudioTask,
  type ObjectSolution,
  type PointsSolution,
} from './tasks.js';
export {
  JSON_CONTENT_TYPE,
  PLAIN_CONTENT_TYPE,
  codeReply,
  okReply,
  parseAnswer,
  renderReply,
  solutionReply,
  solutionText,
  solutionValue,
  valueReply,
  type ParsedAnswer,
  type RenderedReply,
  type Reply,
} from './wire.js';
export { SolverDeclined, SolverFailure, isSolverDeclined, isSolverFailure, type SolveContext, type Solver, type SolverFailureCode } from './solver.js';
export type { Failure } from './params/result.js';
export { isHttpUrl, parseFlag, type FieldKind, type ParamSpec, type RequestParams, type UploadedFile } from './params/fields.js';
export {
  DEFAULT_IMAGE_LIMITS,
  IMAGE_EXTENSIONS,
  checkImage,
  decodeImageBase64,
  sniffImageFormat,
  type Base64Decoder,
  type ImageLimits,
} from './params/images.js';
export { PROXY_TYPES, parseProxy, proxyEndpoint } from './params/proxy.js';
export { COMMON_PARAMS, LANG_CODES, METHODS, methodSpec, type MethodSpec } from './params/methods.js';
export { WIDGET_METHODS, type WidgetMethod } from './params/widgets.js';
export { parseSubmission, type Submission, type SubmissionOptions } from './params/submission.js';
export {
  IDEMPOTENCY_HEADER,
  IDEMPOTENCY_PARAM,
  KEY_LENGTH,
  MAX_IDS_PER_REQUEST,
  RES_ACTIONS,
  isTaskId,
  isWellFormedKey,
  type ResAction,
} from './requests.js';
export {
  LONG_POLL_HEADER,
  MAX_WAIT_SECONDS,
  PINGBACK_SIGNATURE_HEADER,
  PINGBACK_TOLERANCE_SECONDS,
  WAIT_PARAM,
  pingbackSecret,
  signPingback,
  verifyPingback,
  waitMillis,
} from './extensions.js';
export { V2_CODES, v2Error, v2ErrorFor, v2Mapping, type V2Code, type V2Error } from './errors/v2.js';
export { V2_TASK_TYPES, toV1Fields, v2ErrorForTask, v2Solution, type V2TaskType } from './v2/tasks.js';
export { parseV2Answer, v2CallFor, v2TaskFromV1, type V2Call } from './v2/client-wire.js';
