/**
 * The JSON API seen from a client that thinks in v1 requests: an in.php or res.php call becomes
 * the JSON API call that does the same, and its answer is read back as the v1 answer it stands
 * for. A client's retry rules, polling and answer decoding then serve both dialects unchanged.
 */
import { IDEMPOTENCY_PARAM } from '../requests.js';
import { WAIT_PARAM } from '../extensions.js';
import type { ParsedAnswer } from '../wire.js';
import { V2_TASK_TYPES, type V2TaskType } from './tasks.js';

export interface V2Call {
  /** The path below the base URL, e.g. `/createTask`. */
  readonly path: string;
  readonly body: Readonly<Record<string, unknown>>;
}

const BOOLEAN_FIELDS = new Set(['isInvisible', 'isEnterprise', 'phrase', 'case', 'math', 'canSkip']);
const NUMBER_FIELDS = new Set(['numeric', 'minLength', 'maxLength', 'minScore', 'rows', 'columns', 'angle', 'softId']);

function typed(name: string, value: string): unknown {
  if (BOOLEAN_FIELDS.has(name) && (value === '1' || value === '0')) return value === '1';
  if (NUMBER_FIELDS.has(name) && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return value;
}

/** The split proxy fields of a v1 `proxy` (`login:password@host:port`) and `proxytype`. */
function proxyFields(proxy: string, type: string | undefined): Record<string, unknown> {
  const at = proxy.lastIndexOf('@');
  const [login, password] = at < 0 ? [] : [proxy.slice(0, proxy.indexOf(':')), proxy.slice(proxy.indexOf(':') + 1, at)];
  const endpoint = at < 0 ? proxy : proxy.slice(at + 1);
  const colon = endpoint.lastIndexOf(':');
  return {
    proxyType: (type ?? 'HTTP').toLowerCase(),
    proxyAddress: endpoint.slice(0, colon),
    proxyPort: Number(endpoint.slice(colon + 1)),
    ...(login === undefined ? {} : { proxyLogin: login, proxyPassword: password }),
  };
}

/** The task type for a v1 method: the most specific entry whose fixed fields the request has, with or without proxy. */
function typeFor(fields: Readonly<Record<string, string>>): V2TaskType | undefined {
  const method = fields.method === 'geetest_v4' ? 'geetest' : fields.method;
  const matches = V2_TASK_TYPES.filter(
    (t) => !t.type.includes(':') && t.type !== 'NoCaptchaTask' && t.type !== 'NoCaptchaTaskProxyless' && t.fixed.method === method,
  ).filter((t) => Object.entries(t.fixed).every(([k, v]) => k === 'method' || fields[k] === v));
  const specific = Math.max(...matches.map((t) => Object.keys(t.fixed).length));
  const best = matches.filter((t) => Object.keys(t.fixed).length === specific);
  const wantProxy = fields.proxy !== undefined;
  return best.find((t) => (t.proxy === 'none') === !wantProxy) ?? best[0];
}

/** The v2 task object for the in.php fields of a task; undefined for methods the JSON API has no type for. */
export function v2TaskFromV1(fields: Readonly<Record<string, string>>): Record<string, unknown> | undefined {
  const type = typeFor(fields);
  if (type === undefined) return undefined;
  const task: Record<string, unknown> = { type: type.type };
  for (const [v2Name, rule] of Object.entries(type.fields)) {
    if (typeof rule === 'string' && fields[rule] !== undefined) task[v2Name] = typed(v2Name, fields[rule]);
  }
  if (fields.cookies !== undefined && 'cookies' in type.fields) {
    task.cookies = fields.cookies
      .split(';')
      .filter(Boolean)
      .map((pair) => pair.replace(':', '='))
      .join('; ');
  }
  if (fields.enterprise === '1' && fields['data-s'] !== undefined && 'enterprisePayload' in type.fields) task.enterprisePayload = { s: fields['data-s'] };
  const data = Object.entries(fields).filter(([name]) => /^data\[.+\]$/.test(name));
  if (data.length > 0) task.data = JSON.stringify(Object.fromEntries(data.map(([name, value]) => [name.slice(5, -1), value])));
  if (fields.method === 'geetest_v4') {
    task.version = 4;
    task.initParameters = { captcha_id: fields.captcha_id, ...(fields.risk_type === undefined ? {} : { risk_type: fields.risk_type }) };
  }
  if (fields.proxy !== undefined && type.proxy !== 'none') Object.assign(task, proxyFields(fields.proxy, fields.proxytype));
  return task;
}

/**
 * The JSON API call for an in.php or res.php call (with `key`). Undefined when it has none: a
 * method without a task type (BLS, Cloudflare challenge pages), or several ids in one poll.
 */
export function v2CallFor(endpoint: 'in.php' | 'res.php', params: Readonly<Record<string, string>>): V2Call | undefined {
  const clientKey = params.key;
  if (endpoint === 'in.php') {
    const task = v2TaskFromV1(params);
    if (task === undefined) return undefined;
    const extra = {
      ...(params.pingback === undefined ? {} : { callbackUrl: params.pingback }),
      ...(params.soft_id === undefined ? {} : { softId: Number(params.soft_id) }),
      ...(params[IDEMPOTENCY_PARAM] === undefined ? {} : { idempotencyKey: params[IDEMPOTENCY_PARAM] }),
    };
    return { path: '/createTask', body: { clientKey, task, ...extra } };
  }
  const wait = params[WAIT_PARAM] === undefined ? {} : { [WAIT_PARAM]: Number(params[WAIT_PARAM]) };
  switch (params.action) {
    case 'get':
    case 'get2':
      return params.ids === undefined ? { path: '/getTaskResult', body: { clientKey, taskId: Number(params.id), ...wait } } : undefined;
    case 'getbalance':
      return { path: '/getBalance', body: { clientKey } };
    case 'reportgood':
      return { path: '/reportCorrect', body: { clientKey, taskId: Number(params.id) } };
    case 'reportbad':
      return { path: '/reportIncorrect', body: { clientKey, taskId: Number(params.id) } };
    default:
      return undefined;
  }
}

/** The v1 codes the JSON API's own codes stand for, where the names differ. */
const V1_CODE: Readonly<Record<string, string>> = {
  ERROR_IP_BLOCKED: 'IP_BANNED',
  ERROR_RECAPTCHA_INVALID_SITEKEY: 'ERROR_GOOGLEKEY',
  ERROR_TASK_ABSENT: 'ERROR_BAD_PARAMETERS',
  ERROR_TASK_NOT_SUPPORTED: 'ERROR_BAD_PARAMETERS',
  ERROR_NO_SUCH_METHOD: 'ERROR_BAD_PARAMETERS',
  ERROR_PROXY_CONNECT_REFUSED: 'ERROR_PROXY_CONNECTION_FAILED',
  ERROR_NO_SUCH_CAPCHA_ID: 'ERROR_WRONG_CAPTCHA_ID',
};

/** A solution object as the v1 answer it stands for (`request`, and the extra fields). */
function v1Value(solution: Record<string, unknown>): { value: unknown; extra: Record<string, unknown> } {
  const userAgent = typeof solution.userAgent === 'string' ? { useragent: solution.userAgent, user_agent: solution.userAgent } : {};
  if ('challenge' in solution && 'validate' in solution && 'seccode' in solution) {
    return { value: { geetest_challenge: solution.challenge, geetest_validate: solution.validate, geetest_seccode: solution.seccode }, extra: {} };
  }
  if (Array.isArray(solution.click)) return { value: `click:${solution.click.join('/')}`, extra: {} };
  if (Array.isArray(solution.coordinates)) {
    const points = (solution.coordinates as { x: unknown; y: unknown }[]).map((p) => `x=${String(p.x)},y=${String(p.y)}`);
    return { value: `coordinates:${points.join(';')}`, extra: {} };
  }
  for (const name of ['text', 'gRecaptchaResponse', 'token', 'cf_clearance', 'cookie', 'cells', 'rotate']) {
    if (solution[name] !== undefined) return { value: typeof solution[name] === 'number' ? String(solution[name]) : solution[name], extra: userAgent };
  }
  return { value: solution, extra: {} };
}

/** A JSON API answer as the v1 answer it stands for; `garbled` when it is not a JSON API answer. */
export function parseV2Answer(path: string, body: string): ParsedAnswer {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return { kind: 'garbled', reason: body.trim().startsWith('<') ? 'an HTML page' : 'not JSON' };
  }
  if (json === null || typeof json !== 'object' || typeof json.errorId !== 'number') return { kind: 'garbled', reason: 'JSON without errorId' };
  if (json.errorId !== 0) {
    const code = typeof json.errorCode === 'string' ? json.errorCode : `ERROR_ID_${json.errorId}`;
    const errorText = typeof json.errorDescription === 'string' ? json.errorDescription : undefined;
    return { kind: 'code', code: V1_CODE[code] ?? code, ...(errorText === undefined ? {} : { errorText }) };
  }
  switch (path) {
    case '/createTask':
      return json.taskId === undefined ? { kind: 'garbled', reason: 'createTask without taskId' } : { kind: 'ok', value: String(json.taskId), extra: {} };
    case '/getTaskResult': {
      if (json.status === 'processing') return { kind: 'code', code: 'CAPCHA_NOT_READY' };
      if (json.status !== 'ready' || json.solution === null || typeof json.solution !== 'object')
        return { kind: 'garbled', reason: `status ${String(json.status)}` };
      const { value, extra } = v1Value(json.solution as Record<string, unknown>);
      return { kind: 'ok', value, extra: { ...extra, ...(json.cost === undefined ? {} : { price: json.cost }) } };
    }
    case '/getBalance':
      return { kind: 'value', value: String(json.balance) };
    default:
      return { kind: 'value', value: 'OK_REPORT_RECORDED' };
  }
}
