/**
 * Pingback delivery: when a task with a `pingback` URL ends, POST `id` and `code` to it, as
 * 2Captcha does (application/x-www-form-urlencoded), with the same two fields also appended to the
 * URL's query for receivers written for CaptchaAI's GET callbacks. The POST is signed (see
 * @solvebox/protocol's extensions): the account verifies it with its API key.
 *
 * Delivery must not become a way to reach the operator's own network (SSRF): the host is resolved
 * once, every address it resolves to must be public unless the operator allows private targets,
 * and the connection goes to the address that was checked, so a second DNS answer cannot swap it.
 * Redirects are not followed. Any 2xx counts as delivered; anything else is retried with backoff,
 * then logged.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { PINGBACK_SIGNATURE_HEADER, signPingback, solutionText } from '@solvebox/protocol';
import type { Logger } from '../logger.js';
import { isIpAddress, isPublicAddress } from './public-address.js';
import type { Settlement } from './runner.js';

export interface PingbackOptions {
  /** Deliver to loopback, private, link-local and other non-public addresses too. @defaultValue false */
  readonly allowPrivate?: boolean;
  /** Per attempt: DNS, connection and response together. @defaultValue 5000 */
  readonly timeoutMs?: number;
  /** Waits before attempts 2, 3, ...; its length sets the attempt count. @defaultValue [1000, 4000, 16000] */
  readonly retryDelaysMs?: readonly number[];
  readonly log: Logger;
}

/** Why a URL may not receive pingbacks, judged from the URL alone (the submit check), or undefined. */
export function pingbackUrlProblem(url: string, allowPrivate: boolean): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'the pingback is not a URL';
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return 'the pingback must be an http or https URL';
  // `localhost.` is `localhost`: a fully qualified name may end with a dot.
  const host = target.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (isIpAddress(host) && !isPublicAddress(host)))) {
    return 'the pingback points at a private address, which this server does not deliver to';
  }
  return undefined;
}

function pingbackBody(id: string, settlement: Settlement): URLSearchParams {
  const code = settlement.outcome === 'solved' ? solutionText(settlement.solution) : settlement.code;
  return new URLSearchParams({ id, code });
}

/**
 * Delivers one pingback, retrying; true once a 2xx came back. `secret` signs it (the account's
 * key hash; without one the POST goes unsigned).
 */
export async function deliverPingback(url: string, id: string, settlement: Settlement, secret: string, options: PingbackOptions): Promise<boolean> {
  const body = pingbackBody(id, settlement);
  const target = new URL(url);
  for (const [name, value] of body) target.searchParams.append(name, value);
  const payload = body.toString();
  const delays = options.retryDelaysMs ?? [1000, 4000, 16000];
  let problem = '';
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
    try {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' };
      if (secret !== '') headers[PINGBACK_SIGNATURE_HEADER] = await signPingback(secret, payload, Date.now() / 1000);
      const status = await post(target, payload, headers, options);
      if (status >= 200 && status < 300) return true;
      problem = `HTTP ${status}`;
    } catch (err) {
      problem = (err as Error).message;
      if (err instanceof RefusedTarget) break; // the address will not become public by waiting
    }
  }
  // Only the host: the path or query of a pingback URL may carry the receiver's own secrets.
  options.log.warn({ taskId: id, host: target.host, problem }, 'pingback not delivered');
  return false;
}

class RefusedTarget extends Error {}

/** DNS lookups take no AbortSignal: a slow resolver is cut off here instead. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the host name did not resolve in time')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves the host once, checks every address, and POSTs to the first; resolves to the HTTP status. */
async function post(target: URL, payload: string, headers: Record<string, string>, options: PingbackOptions): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const signal = AbortSignal.timeout(timeoutMs);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await withTimeout(dnsLookup(host, { all: true, verbatim: true }), timeoutMs);
  if (addresses.length === 0) throw new Error('the host has no address');
  if (!options.allowPrivate) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) throw new RefusedTarget('the host resolves to a private address');
  }
  const { address, family } = addresses[0] as { address: string; family: number };
  // The connection goes to the address checked above, whatever a second lookup would say.
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) (callback as (err: null, addresses: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const requestOptions: RequestOptions = {
    method: 'POST',
    headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) },
    lookup: pinned,
    signal,
    timeout: timeoutMs,
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = send(target, requestOptions, (res) => {
      res.resume(); // the body does not matter; read it so the socket is freed
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
