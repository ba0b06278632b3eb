/**
 * The client IP that bans apply to: the socket's peer, or with --trust-proxy the address
 * X-Forwarded-For gives behind the trusted proxies. The fast poll path and Fastify use the same
 * trust function, so both see the same IP.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

export type TrustFunction = (address: string, hop: number) => boolean;

/** Undefined when no proxy is trusted (the socket's peer is the client). */
export function trustFunction(trust: boolean | number | string): TrustFunction | undefined {
  if (trust === false) return undefined;
  if (trust === true) return () => true;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyAddr.compile(trust.split(',').map((part) => part.trim()));
}

export function clientIp(req: IncomingMessage, trust: TrustFunction | undefined): string {
  if (!trust) return req.socket.remoteAddress ?? '';
  return proxyAddr.all(req, trust).at(-1) ?? '';
}
