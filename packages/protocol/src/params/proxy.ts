/** Proxy parameters: `proxy` as `host:port` or `login:password@host:port`, plus `proxytype`. */
import type { Proxy, ProxyType } from '../tasks.js';
import { fail, type Failure } from './result.js';

export const PROXY_TYPES: readonly ProxyType[] = ['HTTP', 'HTTPS', 'SOCKS4', 'SOCKS5'];

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6_IN_BRACKETS = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const PORT = /^[0-9]{1,5}$/;

/** Parses a proxy, or fails with ERROR_BAD_PROXY naming what is wrong. */
export function parseProxy(proxy: string, proxytype: string): { ok: true; proxy: Proxy } | Failure {
  const type = proxytype.trim().toUpperCase();
  if (!(PROXY_TYPES as readonly string[]).includes(type)) {
    return fail('ERROR_BAD_PROXY', `proxytype must be one of ${PROXY_TYPES.join(', ')}`);
  }
  const at = proxy.lastIndexOf('@');
  const credentials = at < 0 ? undefined : proxy.slice(0, at);
  const address = at < 0 ? proxy : proxy.slice(at + 1);
  const colon = address.lastIndexOf(':');
  if (colon < 0) return fail('ERROR_BAD_PROXY', 'proxy must be host:port or login:password@host:port');
  const host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  const port = Number(portText);
  if (!PORT.test(portText) || port < 1 || port > 65535) return fail('ERROR_BAD_PROXY', 'proxy port must be 1 to 65535');
  if (!HOSTNAME.test(host) && !IPV6_IN_BRACKETS.test(host)) return fail('ERROR_BAD_PROXY', 'proxy host is not a hostname or IP address');
  if (credentials === undefined) return { ok: true, proxy: { type: type as ProxyType, host, port } };
  const sep = credentials.indexOf(':');
  if (sep <= 0) return fail('ERROR_BAD_PROXY', 'proxy credentials must be login:password');
  return {
    ok: true,
    proxy: { type: type as ProxyType, host, port, login: credentials.slice(0, sep), password: credentials.slice(sep + 1) },
  };
}

/** Identifies a proxy for "marked bad" bookkeeping: the endpoint, without credentials. */
export function proxyEndpoint(proxy: Proxy): string {
  return `${proxy.host.toLowerCase()}:${proxy.port}`;
}
