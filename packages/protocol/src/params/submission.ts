/**
 * in.php request → validated submission. This covers the "parameters" and "image" stages of the
 * documented check order; the server does authentication before and proxy/thread checks after.
 */
import type { TaskSpec } from '../tasks.js';
import { validateParams, type RequestParams } from './fields.js';
import type { Base64Decoder, ImageLimits } from './images.js';
import { resolveMethod } from './media.js';
import { COMMON_PARAMS, methodSpec, METHODS } from './methods.js';
import { fail, type Failure } from './result.js';
import { IDEMPOTENCY_PARAM } from '../requests.js';

export interface Submission {
  readonly spec: TaskSpec;
  /** Proxy as sent; syntax is checked in the proxy stage by `parseProxy`. */
  readonly proxy?: { readonly proxy: string; readonly proxytype: string };
  readonly pingback?: string;
  readonly softId?: number;
  readonly idempotencyKey?: string;
}

export interface SubmissionOptions {
  readonly limits: ImageLimits;
  readonly decodeBase64?: Base64Decoder;
}

export function parseSubmission(request: RequestParams, options: SubmissionOptions): { ok: true; submission: Submission } | Failure {
  const method = resolveMethod(request);
  if (method === '') return fail('ERROR_BAD_PARAMETERS', '`method` is required');
  const spec = methodSpec(method);
  if (spec === undefined) {
    return fail('ERROR_BAD_PARAMETERS', `unknown method; use one of ${METHODS.map((m) => m.method).join(', ')}`);
  }
  // The method's own parameters first: their specific codes (ERROR_WRONG_GOOGLEKEY, ERROR_PAGEURL)
  // say more than a generic ERROR_BAD_PARAMETERS about a common parameter.
  const own = validateParams(request, spec.params);
  if (!own.ok) return own;
  const common = validateParams(request, COMMON_PARAMS);
  if (!common.ok) return common;

  const proxy = common.values.text('proxy') ?? own.values.text('proxy');
  const proxytype = common.values.text('proxytype') ?? own.values.text('proxytype');
  if (proxy !== undefined && proxytype === undefined) return fail('ERROR_BAD_PARAMETERS', '`proxytype` is required with `proxy`');

  const built = spec.build(own.values, { request, limits: options.limits, ...(options.decodeBase64 ? { decodeBase64: options.decodeBase64 } : {}) });
  if (!built.ok) return built;

  const pingback = common.values.text('pingback');
  const softId = common.values.number('soft_id');
  const idempotencyKey = common.values.text(IDEMPOTENCY_PARAM);
  return {
    ok: true,
    submission: {
      spec: built.spec,
      ...(proxy !== undefined && proxytype !== undefined ? { proxy: { proxy, proxytype } } : {}),
      ...(pingback === undefined ? {} : { pingback }),
      ...(softId === undefined ? {} : { softId }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    },
  };
}
