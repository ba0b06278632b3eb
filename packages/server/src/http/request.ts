/** The merged parameters of a protocol request and the flags that shape its answer. */
import { parseFlag, type RequestParams } from '@solvebox/protocol';
import type { ParsedBody } from './body.js';
import { EMPTY_BODY } from './body.js';

/** The signal of requests that never wait: nothing listens to it, so nothing needs to abort it. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

export interface ProtocolRequest extends RequestParams {
  readonly problem?: ParsedBody['problem'];
  readonly json: boolean;
  readonly acao: boolean;
  /** Aborts when the client goes away: a long-poll stops waiting for it. */
  readonly signal: AbortSignal;
}

/** The raw query string of a URL, without the `?`. */
export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

function isOn(value: string | undefined): boolean {
  return value !== undefined && parseFlag(value.trim()) === true;
}

/**
 * Query string and body merged, the body winning, like PHP's $_REQUEST; for a repeated name the
 * last value wins. `json` and `header_acao` are read leniently: they decide how errors are written.
 */
export function protocolRequest(url: string, body: ParsedBody | undefined, jsonByDefault: boolean, signal: AbortSignal): ProtocolRequest {
  const parsed = body ?? EMPTY_BODY;
  const fields = new Map(new URLSearchParams(queryOf(url)));
  for (const [name, value] of parsed.fields) fields.set(name, value);
  const json = fields.get('json');
  return {
    fields,
    files: parsed.files,
    ...(parsed.problem ? { problem: parsed.problem } : {}),
    json: json === undefined ? jsonByDefault : isOn(json),
    acao: isOn(fields.get('header_acao')),
    signal,
  };
}

/** Answer flags from the query string alone, for errors raised before the body was read. */
export function flagsFromQuery(url: string, jsonByDefault: boolean): { json: boolean; acao: boolean } {
  const query = new URLSearchParams(queryOf(url));
  const json = query.get('json');
  return { json: json === null ? jsonByDefault : isOn(json), acao: isOn(query.get('header_acao') ?? undefined) };
}
