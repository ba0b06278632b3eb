/**
 * Errors, one class per way a caller should react. Every error carries the protocol code (kept
 * verbatim, even when unknown), the endpoint, the task id when there is one, the catalog's fix
 * text and the time spent. None ever contains the API key.
 */
import { catalogEntry, type RetryClass } from '@solvebox/protocol';

export type Endpoint = 'in.php' | 'res.php';

/** How the caller should react: a retry class of the catalog, or a failure outside the protocol. */
export type ErrorKind = Exclude<RetryClass, 'not-ready'> | 'unknown-code' | 'transport' | 'timeout' | 'aborted';

export interface ErrorContext {
  readonly endpoint?: Endpoint;
  readonly taskId?: string;
  readonly elapsedMs: number;
  /** The service's own `error_text`, when it sent one. */
  readonly errorText?: string;
}

export class SolveboxError extends Error {
  override readonly name: string = 'SolveboxError';
  readonly kind: ErrorKind = 'unknown-code';
  readonly endpoint: Endpoint | undefined;
  readonly taskId: string | undefined;
  readonly elapsedMs: number;
  readonly errorText: string | undefined;

  constructor(
    /** The protocol code as the service sent it, or TRANSPORT, TIMEOUT, ABORTED. */
    readonly code: string,
    /** What to change or do, from the error catalog. */
    readonly fix: string,
    context: ErrorContext,
    options?: { cause?: unknown },
  ) {
    super(`${code}${context.endpoint ? ` (${context.endpoint})` : ''}${context.taskId ? ` task ${context.taskId}` : ''}: ${context.errorText ?? fix}`, options);
    this.endpoint = context.endpoint;
    this.taskId = context.taskId;
    this.elapsedMs = context.elapsedMs;
    this.errorText = context.errorText;
  }
}

/** The request is wrong (key, parameters, image, id): retrying it unchanged cannot succeed. */
export class FixRequestError extends SolveboxError {
  override readonly name = 'FixRequestError';
  override readonly kind = 'fix-request';
}

/** The service kept failing, or the caller is banned for a while: retries or the ban's wait ran out. */
export class RetryLaterError extends SolveboxError {
  override readonly name = 'RetryLaterError';
  override readonly kind = 'retry-later';
}

/** All of the account's threads stayed busy for longer than the thread wait allows. */
export class WaitForThreadError extends SolveboxError {
  override readonly name = 'WaitForThreadError';
  override readonly kind = 'wait-for-thread';
}

/** The task ended without an answer (unsolvable, proxy failure, ...). A new task may succeed. */
export class TaskFailedError extends SolveboxError {
  override readonly name = 'TaskFailedError';
  override readonly kind = 'task-failed';
}

/** A code no catalog knows, kept verbatim. It is not retried. */
export class UnknownCodeError extends SolveboxError {
  override readonly name = 'UnknownCodeError';
  override readonly kind = 'unknown-code';
}

/**
 * No usable answer came back: a network failure, a non-200 status, an HTML page, an empty or
 * garbled body. `ambiguous` means the request may have reached the service: a submit is then not
 * repeated unless the server honours idempotency keys.
 */
export class TransportError extends SolveboxError {
  override readonly name = 'TransportError';
  override readonly kind = 'transport';
  /** The HTTP status, when the failure was a non-200 answer. */
  readonly status: number | undefined;
  constructor(
    message: string,
    readonly ambiguous: boolean,
    context: ErrorContext,
    options?: { cause?: unknown; status?: number },
  ) {
    super(
      'TRANSPORT',
      'Check the base URL and the network; the request is retried with backoff where that is safe.',
      { ...context, errorText: message },
      options,
    );
    this.status = options?.status;
  }
}

/** The call's overall deadline passed. `lastCode` is the last answer seen (CAPCHA_NOT_READY, a code). */
export class TimeoutError extends SolveboxError {
  override readonly name = 'TimeoutError';
  override readonly kind = 'timeout';
  constructor(
    context: ErrorContext,
    readonly lastCode?: string,
  ) {
    super('TIMEOUT', 'Allow more time (timeoutMs), or check why tasks take this long.', {
      ...context,
      errorText: `no answer within the deadline${lastCode ? ` (last answer: ${lastCode})` : ''}`,
    });
  }
}

/** The caller's AbortSignal fired. `cause` is the signal's reason. */
export class AbortError extends SolveboxError {
  override readonly name = 'AbortError';
  override readonly kind = 'aborted';
  constructor(context: ErrorContext, reason: unknown) {
    super('ABORTED', 'The call was cancelled by its AbortSignal.', { ...context, errorText: 'aborted' }, { cause: reason });
  }
}

const BY_RETRY_CLASS = {
  'fix-request': FixRequestError,
  'retry-later': RetryLaterError,
  'wait-for-thread': WaitForThreadError,
  'task-failed': TaskFailedError,
} as const;

/** The error class for a protocol code, from its catalog retry class; undefined for not-ready codes. */
export function errorClassFor(code: string): typeof SolveboxError | undefined {
  const entry = catalogEntry(code);
  if (!entry) return UnknownCodeError;
  return entry.retry === 'not-ready' ? undefined : BY_RETRY_CLASS[entry.retry];
}

/** The error for a protocol code, with the catalog's fix text. */
export function errorForCode(code: string, context: ErrorContext): SolveboxError {
  const entry = catalogEntry(code);
  const Class = errorClassFor(code) ?? UnknownCodeError;
  return new Class(code, entry?.fix ?? "This code is not documented; see the service's documentation.", context);
}
