/**
 * Pingback delivery: when a task with a `pingback` URL ends, POST `id` and `code` to it, as
 * 2Captcha does (application/x-www-form-urlencoded), with the same two fields also appended to the
 * URL's query for receivers written for CaptchaAI's GET callbacks. Any 2xx counts as delivered;
 * redirects are not followed. Delivery is best-effort: a few attempts with backoff, then a log line.
 */
import { solutionText } from '@solvebox/protocol';
import type { Logger } from './logger.js';
import type { Settlement } from './runner/runner.js';

export interface PingbackOptions {
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  /** Waits before attempts 2, 3, ...; its length sets the attempt count. @defaultValue [1000, 5000] */
  readonly retryDelaysMs?: readonly number[];
  readonly log: Logger;
}

export function pingbackBody(id: string, settlement: Settlement): URLSearchParams {
  const code = settlement.outcome === 'solved' ? solutionText(settlement.solution) : settlement.code;
  return new URLSearchParams({ id, code });
}

export async function deliverPingback(url: string, id: string, settlement: Settlement, options: PingbackOptions): Promise<boolean> {
  const body = pingbackBody(id, settlement);
  const target = new URL(url);
  for (const [name, value] of body) target.searchParams.append(name, value);
  const doFetch = options.fetch ?? fetch;
  const delays = options.retryDelaysMs ?? [1000, 5000];
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
    try {
      const res = await doFetch(target, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return true;
    } catch {
      // Network error or timeout: try again.
    }
  }
  // Only the host: the path or query of a pingback URL may carry the receiver's own secrets.
  options.log.warn({ taskId: id, host: target.host }, 'pingback not delivered');
  return false;
}
