/**
 * Marks: what in.php refuses for a while after a solver reported it bad, a proxy endpoint
 * (ERROR_PROXY_CONNECTION_FAILED) or a task type's sitekey/pageurl pair (ERROR_BAD_TOKEN_OR_PAGEURL).
 * The runner writes them and the submit route reads them; storage alone knows how they are keyed.
 */
import { proxyEndpoint, type Proxy, type TaskType } from '@solvebox/protocol';

export type Mark =
  | { readonly kind: 'proxy'; readonly proxy: Proxy }
  | { readonly kind: 'pair'; readonly type: TaskType; readonly sitekey: string; readonly pageurl: string };

export type MarkKind = Mark['kind'];

/** The kind and key under which the adapters store a mark. */
export function markKey(mark: Mark): { readonly kind: MarkKind; readonly key: string } {
  return mark.kind === 'proxy' ? { kind: 'proxy', key: proxyEndpoint(mark.proxy) } : { kind: 'pair', key: `${mark.type}\n${mark.sitekey}\n${mark.pageurl}` };
}

/** Distinct marks (or their absence) an adapter remembers; beyond that the oldest are read again. */
export const MARKS_CACHED = 10_000;
