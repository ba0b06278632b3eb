/** Parameters that several methods share, defined once. */
import type { ParamSpec } from './fields.js';

export const PAGEURL: ParamSpec = {
  name: 'pageurl',
  type: { kind: 'url' },
  required: true,
  missingCode: 'ERROR_PAGEURL',
  invalidCode: 'ERROR_PAGEURL',
  doc: 'Full URL of the page that shows the captcha.',
};

export const USER_AGENT: ParamSpec = {
  name: 'userAgent',
  type: { kind: 'text', maxLength: 1024 },
  doc: 'User agent the solver should present.',
};

export const PROXY_REQUIRED_PARAMS: readonly ParamSpec[] = [
  {
    name: 'proxy',
    type: { kind: 'text', maxLength: 512 },
    required: true,
    doc: '`host:port` or `login:password@host:port`; the answer is bound to its IP.',
  },
  { name: 'proxytype', type: { kind: 'text', maxLength: 16 }, required: true, doc: '`HTTP`, `HTTPS`, `SOCKS4` or `SOCKS5`.' },
];
