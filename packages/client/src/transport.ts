/**
 * One HTTP exchange with in.php or res.php, and the decision whether a failed one may have reached
 * the service. Nothing here retries; the client's policy does.
 */
import { IDEMPOTENCY_HEADER, LONG_POLL_HEADER, parseAnswer, parseV2Answer, v2CallFor, type ParsedAnswer } from '@solvebox/protocol';
import { AbortError, TimeoutError, TransportError, type Endpoint } from './errors.js';
import type { Deadline } from './time.js';

export interface TransportOptions {
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly requestTimeoutMs: number;
  /** Removed from every error message, in case a runtime puts the URL (with the key) into one. */
  readonly secret: string;
  /** `v1`: in.php / res.php; `v2`: the JSON createTask API, each call translated (protocol's v2/client-wire.ts). */
  readonly protocol: 'v1' | 'v2';
}

/** A call the JSON API has no equivalent for (BLS, Cloudflare challenge pages, several ids at once). */
export class UnsupportedCallError extends Error {
  override readonly name = 'UnsupportedCallError';
}

export interface Exchange {
  readonly answer: Exclude<ParsedAnswer, { kind: 'garbled' }>;
  /** The service said it honours idempotency keys. */
  readonly idempotent: boolean;
  /** The longest long-poll wait the service offers, in seconds; undefined when it offers none. */
  readonly longPollSeconds: number | undefined;
}

/**
 * Network errors raised before any byte of the request left: the request provably did not reach
 * the service, so even a submit may be sent again.
 */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

export async function exchange(options: TransportOptions, endpoint: Endpoint, params: Readonly<Record<string, string>>, deadline: Deadline): Promise<Exchange> {
  deadline.check();
  const redact = (text: string): string => (options.secret === '' ? text : text.split(options.secret).join('[key]'));
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      controller.abort();
    },
    Math.min(options.requestTimeoutMs, deadline.remainingMs),
  );
  const onAbort = (): void => controller.abort();
  deadline.signal?.addEventListener('abort', onAbort, { once: true });
  const url = `${options.baseUrl}/${endpoint}`;
  const v2 = options.protocol === 'v2' ? v2CallFor(endpoint, params) : undefined;
  if (options.protocol === 'v2' && v2 === undefined) {
    clearTimeout(timer);
    deadline.signal?.removeEventListener('abort', onAbort);
    throw new UnsupportedCallError(`the JSON API has no equivalent of this ${endpoint} call (${params.method ?? params.action}); use protocol 'v1'`);
  }
  // Submits are POSTed (images do not fit a URL, and the key stays out of access logs); results are
  // read with GET, the form every vendor documents. The JSON API takes JSON POSTs only.
  const init: RequestInit = v2
    ? { method: 'POST', body: JSON.stringify(v2.body), headers: { 'content-type': 'application/json' }, signal: controller.signal }
    : endpoint === 'in.php'
      ? { method: 'POST', body: new URLSearchParams(params), signal: controller.signal }
      : { method: 'GET', signal: controller.signal };
  const target = v2 ? `${options.baseUrl}${v2.path}` : endpoint === 'in.php' ? url : `${url}?${new URLSearchParams(params)}`;
  try {
    let response: Response;
    try {
      response = await options.fetch(target, init);
    } catch (err) {
      if (deadline.signal?.aborted) throw new AbortError(deadline.context({ endpoint }), deadline.signal.reason);
      if (timedOut && deadline.remainingMs <= 0) throw new TimeoutError(deadline.context({ endpoint }), deadline.lastCode);
      if (timedOut) throw new TransportError(`no answer within ${options.requestTimeoutMs} ms`, true, deadline.context({ endpoint }));
      const code = causeCode(err);
      const message = redact(`${(err as Error).message}${code ? ` (${code})` : ''}`);
      throw new TransportError(message, !NOT_SENT.has(code ?? ''), deadline.context({ endpoint }), { cause: { code, message } });
    }
    let body: string;
    try {
      body = await response.text();
    } catch (err) {
      if (deadline.signal?.aborted) throw new AbortError(deadline.context({ endpoint }), deadline.signal.reason);
      throw new TransportError(`the answer broke off${timedOut ? ' (request timeout)' : ''}`, true, deadline.context({ endpoint }), {
        cause: { message: redact((err as Error).message) },
      });
    }
    if (response.status !== 200) {
      throw new TransportError(`HTTP ${response.status}`, true, deadline.context({ endpoint }), { status: response.status });
    }
    const answer = v2 ? parseV2Answer(v2.path, body) : parseAnswer(body);
    if (answer.kind === 'garbled') throw new TransportError(`the answer is ${answer.reason}`, true, deadline.context({ endpoint }));
    const longPoll = Number(response.headers.get(LONG_POLL_HEADER) ?? '');
    return { answer, idempotent: response.headers.get(IDEMPOTENCY_HEADER) === 'honoured', longPollSeconds: longPoll > 0 ? longPoll : undefined };
  } finally {
    clearTimeout(timer);
    deadline.signal?.removeEventListener('abort', onAbort);
  }
}
