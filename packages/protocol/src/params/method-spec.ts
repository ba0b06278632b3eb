/** What a v1 method is: its parameters, in check order, and how their values become a task. */
import type { TaskSpec, TaskType } from '../tasks.js';
import type { ParamSpec, ParamValues, RequestParams } from './fields.js';
import type { Base64Decoder, ImageLimits } from './images.js';
import type { Failure } from './result.js';

export interface BuildContext {
  readonly request: RequestParams;
  readonly limits: ImageLimits;
  readonly decodeBase64?: Base64Decoder;
}

export interface MethodSpec {
  /** The wire name, the value of `method`. */
  readonly method: string;
  /** Other requests that select this method (`method=post` with `recaptcha=1` is a grid), for the docs; see `resolveMethod`. */
  readonly alsoSelectedBy?: string;
  readonly type: TaskType;
  readonly summary: string;
  readonly params: readonly ParamSpec[];
  /** Whether `proxy` + `proxytype` must be sent. */
  readonly proxyRequired: boolean;
  /** Cross-parameter checks, then the image stage, then the task. */
  build(values: ParamValues, ctx: BuildContext): { ok: true; spec: TaskSpec } | Failure;
}
