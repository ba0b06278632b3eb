/**
 * The JSON createTask API's task objects, as 2Captcha (v2) and Anti-Captcha name them, and the
 * solutions they are answered with. Each task type is a renaming of a v1 method's parameters:
 * `toV1Fields` turns a task object into the in.php fields of that method, so the one v1
 * parameter table validates both dialects, and a task made in one is read in the other.
 */
import { V2_CODES, v2Error, v2ErrorFor, type V2Error } from '../errors/v2.js';
import type { Solution, TaskType } from '../tasks.js';

/** A v2 field and what it becomes in v1: a parameter name, or a conversion. */
type FieldRule = string | ((value: unknown, out: Map<string, string>) => string | undefined);

export interface V2TaskType {
  /** The type name; `...Proxyless` variants are listed apart. */
  readonly type: string;
  /** The v1 fields it always sends (`method`, and flags such as `version=v3`). */
  readonly fixed: Readonly<Record<string, string>>;
  /** Its fields by v2 name. */
  readonly fields: Readonly<Record<string, FieldRule>>;
  /**
   * `optional`: the type without `Proxyless`, where the proxy fields are read when sent (CapMonster
   * sends these names without a proxy too); `required`: the answer is bound to a proxy; `none`.
   */
  readonly proxy: 'required' | 'optional' | 'none';
  readonly summary: string;
}

const COMMON_TOKEN: Record<string, FieldRule> = { websiteURL: 'pageurl', userAgent: 'userAgent' };

/** Anti-Captcha cookies are `name=value; name2=value2`; v1 wants `name:value;name2:value2`. */
const cookies: FieldRule = (value, out) => {
  if (typeof value !== 'string') return '`cookies` must be a string';
  const pairs = value
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? p : `${p.slice(0, eq)}:${p.slice(eq + 1)}`;
    });
  if (pairs.length > 0) out.set('cookies', pairs.join(';'));
  return undefined;
};

/** `enterprisePayload: { s: ... }` (reCAPTCHA) or `{ rqdata: ... }` (hCaptcha). */
const payload =
  (key: string, to: string): FieldRule =>
  (value, out) => {
    if (value === null || typeof value !== 'object') return '`enterprisePayload` must be an object';
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) out.set(to, String(field));
    return undefined;
  };

/** FunCaptcha's `data`: a JSON string such as `{"blob":"..."}`, sent to v1 as `data[blob]`. */
const funcaptchaData: FieldRule = (value, out) => {
  let data: unknown = value;
  if (typeof value === 'string') {
    try {
      data = JSON.parse(value);
    } catch {
      return '`data` must be a JSON object, e.g. {"blob":"..."}';
    }
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return '`data` must be a JSON object';
  for (const [name, field] of Object.entries(data)) out.set(`data[${name}]`, String(field));
  return undefined;
};

const IMAGE_FIELDS: Record<string, FieldRule> = { body: 'body', comment: 'textinstructions', imgInstructions: 'imginstructions', lang: 'lang' };

/** Each type, with and without a proxy where the vendors offer both. */
function both(type: string, fixed: Record<string, string>, fields: Record<string, FieldRule>, summary: string): V2TaskType[] {
  return [
    { type, fixed, fields, proxy: 'optional', summary },
    { type: `${type}Proxyless`, fixed, fields, proxy: 'none', summary },
  ];
}

/** CapMonster's `CustomTask`: the widget is named by `class`; its table entry is `CustomTask:<class>`. */
const CUSTOM_TASK = 'customtask';

const RECAPTCHA_V2_FIELDS: Record<string, FieldRule> = {
  ...COMMON_TOKEN,
  websiteKey: 'googlekey',
  isInvisible: 'invisible',
  recaptchaDataSValue: 'data-s',
  apiDomain: 'domain',
  cookies,
};

export const V2_TASK_TYPES: readonly V2TaskType[] = [
  {
    type: 'ImageToTextTask',
    fixed: { method: 'base64' },
    fields: {
      body: 'body',
      phrase: 'phrase',
      case: 'regsense',
      numeric: 'numeric',
      math: 'calc',
      minLength: 'min_len',
      maxLength: 'max_len',
      comment: 'textinstructions',
      lang: 'lang',
    },
    proxy: 'none',
    summary: 'A text captcha image; solution `{ text }`.',
  },
  ...both('RecaptchaV2Task', { method: 'userrecaptcha' }, RECAPTCHA_V2_FIELDS, 'reCAPTCHA v2; solution `{ gRecaptchaResponse, token }`.'),
  ...both('NoCaptchaTask', { method: 'userrecaptcha' }, RECAPTCHA_V2_FIELDS, "Anti-Captcha's older name for RecaptchaV2Task."),
  ...both(
    'RecaptchaV2EnterpriseTask',
    { method: 'userrecaptcha', enterprise: '1' },
    { ...RECAPTCHA_V2_FIELDS, enterprisePayload: payload('s', 'data-s') },
    'reCAPTCHA v2 Enterprise; solution `{ gRecaptchaResponse, token }`.',
  ),
  {
    type: 'RecaptchaV3TaskProxyless',
    fixed: { method: 'userrecaptcha', version: 'v3' },
    fields: { ...COMMON_TOKEN, websiteKey: 'googlekey', minScore: 'min_score', pageAction: 'action', isEnterprise: 'enterprise', apiDomain: 'domain' },
    proxy: 'none',
    summary: 'reCAPTCHA v3; solution `{ gRecaptchaResponse, token }`.',
  },
  ...both(
    'TurnstileTask',
    { method: 'turnstile' },
    { ...COMMON_TOKEN, websiteKey: 'sitekey', action: 'action', data: 'data', pagedata: 'pagedata' },
    'Cloudflare Turnstile; solution `{ token, userAgent }`.',
  ),
  ...both(
    'GeeTestTask',
    { method: 'geetest' },
    {
      ...COMMON_TOKEN,
      gt: 'gt',
      challenge: 'challenge',
      geetestApiServerSubdomain: 'api_server',
      version: (value, out) => {
        if (String(value) === '4') out.set('method', 'geetest_v4');
        else if (String(value) !== '3') return '`version` must be 3 or 4';
        return undefined;
      },
      initParameters: (value, out) => {
        if (value === null || typeof value !== 'object') return '`initParameters` must be an object';
        const { captcha_id, risk_type } = value as Record<string, unknown>;
        if (captcha_id !== undefined) out.set('captcha_id', String(captcha_id));
        if (risk_type !== undefined) out.set('risk_type', String(risk_type));
        return undefined;
      },
    },
    'GeeTest v3, or v4 with `version: 4`; solution `{ challenge, validate, seccode }` (v3) or the v4 fields.',
  ),
  ...both(
    'HCaptchaTask',
    { method: 'hcaptcha' },
    { ...COMMON_TOKEN, websiteKey: 'sitekey', isInvisible: 'invisible', enterprisePayload: payload('rqdata', 'data'), data: 'data' },
    'hCaptcha; solution `{ gRecaptchaResponse, token, respKey, userAgent }`.',
  ),
  ...both(
    'FunCaptchaTask',
    { method: 'funcaptcha' },
    { ...COMMON_TOKEN, websitePublicKey: 'publickey', funcaptchaApiJSSubdomain: 'surl', data: funcaptchaData },
    'Arkose Labs FunCaptcha; solution `{ token }`.',
  ),
  ...both(
    'KeyCaptchaTask',
    { method: 'keycaptcha' },
    {
      ...COMMON_TOKEN,
      s_s_c_user_id: 's_s_c_user_id',
      s_s_c_session_id: 's_s_c_session_id',
      s_s_c_web_server_sign: 's_s_c_web_server_sign',
      s_s_c_web_server_sign2: 's_s_c_web_server_sign2',
    },
    'KeyCaptcha; solution `{ token }`.',
  ),
  ...both('CapyTask', { method: 'capy' }, { ...COMMON_TOKEN, websiteKey: 'captchakey' }, 'Capy; solution `{ captchakey, challengekey, answer }`.'),
  ...both(
    'LeminTask',
    { method: 'lemin' },
    { ...COMMON_TOKEN, captchaId: 'captcha_id', divId: 'div_id', leminApiServerSubdomain: 'api_server' },
    'Lemin; solution `{ answer, challenge_id }`.',
  ),
  ...both(
    'AmazonTask',
    { method: 'amazon_waf' },
    { ...COMMON_TOKEN, websiteKey: 'sitekey', iv: 'iv', context: 'context', challengeScript: 'challenge_script', captchaScript: 'captcha_script' },
    'Amazon WAF; solution `{ captcha_voucher, existing_token, token }` (`token`: the `aws-waf-token`, as Anti-Captcha names it).',
  ),
  ...both('MtCaptchaTask', { method: 'mt_captcha' }, { ...COMMON_TOKEN, websiteKey: 'sitekey' }, 'MTCaptcha; solution `{ token }`.'),
  ...both('CutCaptchaTask', { method: 'cutcaptcha' }, { ...COMMON_TOKEN, miseryKey: 'misery_key', apiKey: 'api_key' }, 'CutCaptcha; solution `{ token }`.'),
  ...both('FriendlyCaptchaTask', { method: 'friendly_captcha' }, { ...COMMON_TOKEN, websiteKey: 'sitekey' }, 'Friendly Captcha; solution `{ token }`.'),
  ...both('TencentTask', { method: 'tencent' }, { ...COMMON_TOKEN, appId: 'app_id' }, 'Tencent; solution `{ appid, ret, ticket, randstr }`.'),
  ...both('AtbCaptchaTask', { method: 'atb_captcha' }, { ...COMMON_TOKEN, appId: 'app_id', apiServer: 'api_server' }, 'atbCAPTCHA; solution `{ token }`.'),
  {
    type: 'DataDomeSliderTask',
    fixed: { method: 'datadome' },
    fields: { ...COMMON_TOKEN, captchaUrl: 'captcha_url' },
    proxy: 'required',
    summary: 'DataDome; solution `{ cookie }`. A proxy and the user agent are required.',
  },
  ...both('AntiCyberSiAraTask', { method: 'cybersiara' }, { ...COMMON_TOKEN, SlideMasterUrlId: 'master_url_id' }, 'CyberSiARA; solution `{ token }`.'),
  ...both('ProsopoTask', { method: 'prosopo' }, { ...COMMON_TOKEN, websiteKey: 'sitekey' }, 'Prosopo Procaptcha; solution `{ token }`.'),
  {
    type: 'CaptchaFoxTask',
    fixed: { method: 'captchafox' },
    fields: { ...COMMON_TOKEN, websiteKey: 'sitekey' },
    proxy: 'required',
    summary: 'CaptchaFox; solution `{ token }`. A proxy is required.',
  },
  {
    type: 'CustomTask:DataDome',
    fixed: { method: 'datadome' },
    fields: {
      ...COMMON_TOKEN,
      metadata: (value, out) => {
        const url = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).captchaUrl : undefined;
        if (typeof url !== 'string') return '`metadata.captchaUrl` is required';
        out.set('captcha_url', url);
        return undefined;
      },
    },
    proxy: 'required',
    summary: 'CapMonster\'s DataDome (`CustomTask`, `class: "DataDome"`); solution `{ cookie }`.',
  },
  {
    type: 'CustomTask:TenDI',
    fixed: { method: 'tencent' },
    fields: { ...COMMON_TOKEN, websiteKey: 'app_id' },
    proxy: 'optional',
    summary: 'CapMonster\'s Tencent (`CustomTask`, `class: "TenDI"`); solution `{ appid, ret, ticket, randstr }`.',
  },
  {
    type: 'GridTask',
    fixed: { method: 'grid' },
    fields: { ...IMAGE_FIELDS, rows: 'recaptcharows', columns: 'recaptchacols', canSkip: 'can_no_answer' },
    proxy: 'none',
    summary: 'A grid of pictures to click; solution `{ click: [1, 4, 7] }`.',
  },
  {
    type: 'CoordinatesTask',
    fixed: { method: 'coordinates' },
    fields: IMAGE_FIELDS,
    proxy: 'none',
    summary: 'Points to click; solution `{ coordinates: [{ x, y }] }`.',
  },
  {
    type: 'RotateTask',
    fixed: { method: 'rotatecaptcha' },
    fields: { ...IMAGE_FIELDS, angle: 'angle' },
    proxy: 'none',
    summary: 'An image to turn upright; solution `{ rotate: degrees }`.',
  },
  {
    type: 'TextCaptchaTask',
    fixed: { method: 'textcaptcha' },
    fields: { comment: 'textcaptcha', lang: 'lang' },
    proxy: 'none',
    summary: 'A text question; solution `{ text }`.',
  },
  { type: 'AudioTask', fixed: { method: 'audio' }, fields: { body: 'body', lang: 'lang' }, proxy: 'none', summary: 'Spoken audio (MP3); solution `{ text }`.' },
];

const BY_TYPE = new Map(V2_TASK_TYPES.map((t) => [t.type.toLowerCase(), t]));

/** The proxy fields of a task without `Proxyless`, in both spellings clients use: split, or one `proxy` string. */
function proxyFields(task: Record<string, unknown>, out: Map<string, string>): string | undefined {
  const type = task.proxyType ?? task.proxytype;
  const address = task.proxyAddress ?? task.proxyaddress;
  const port = task.proxyPort ?? task.proxyport;
  if (typeof task.proxy === 'string' && address === undefined) {
    out.set('proxy', task.proxy);
    out.set('proxytype', String(type ?? 'HTTP').toUpperCase());
    return undefined;
  }
  if (type === undefined && address === undefined && port === undefined) return 'missing';
  if (type === undefined || address === undefined || port === undefined) return 'a proxy needs `proxyType`, `proxyAddress` and `proxyPort`';
  const login = task.proxyLogin ?? task.proxylogin;
  const password = task.proxyPassword ?? task.proxypassword;
  const credentials = login !== undefined && login !== '' ? `${String(login)}:${String(password ?? '')}@` : '';
  out.set('proxy', `${credentials}${String(address)}:${String(port)}`);
  out.set('proxytype', String(type).toUpperCase());
  return undefined;
}

/**
 * A value named back in an error, when it is a plain name; never anything of an API key's length,
 * so that a key pasted into the wrong field does not travel back in an answer.
 */
function echo(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,40}$/.test(value) && value.length !== 32 ? ` \`${value}\`` : '';
}

/**
 * The in.php fields of a v2 task object, or the v2 error that refuses it. Values are sent as v1
 * text (`true` becomes `1`); unknown fields are ignored, as the vendors ignore them.
 */
export function toV1Fields(task: unknown): { ok: true; fields: Map<string, string>; type: V2TaskType } | { ok: false; error: V2Error } {
  if (task === undefined || task === null || task === '') return { ok: false, error: v2Error('ERROR_TASK_ABSENT') };
  if (typeof task !== 'object' || Array.isArray(task)) return { ok: false, error: v2Error('ERROR_TASK_ABSENT', '`task` must be an object') };
  const object = task as Record<string, unknown>;
  if (typeof object.type !== 'string' || object.type === '') return { ok: false, error: v2Error('ERROR_TASK_ABSENT', '`task.type` is missing') };
  // Type names are matched without regard to case: CapMonster writes `MTCaptchaTask`, CapSolver `...ProxyLess`.
  const name = object.type.toLowerCase() === CUSTOM_TASK ? `${CUSTOM_TASK}:${String(object.class).toLowerCase()}` : object.type.toLowerCase();
  const spec = BY_TYPE.get(name);
  if (spec === undefined) {
    const what = name.startsWith(`${CUSTOM_TASK}:`) ? `\`CustomTask\` class${echo(object.class)}` : `task type${echo(object.type)}`;
    return { ok: false, error: v2Error('ERROR_TASK_NOT_SUPPORTED', `unknown ${what}`) };
  }
  const out = new Map<string, string>(Object.entries(spec.fixed));
  for (const [field, rule] of Object.entries(spec.fields)) {
    const value = object[field];
    // Clients send fields they have no value for as null or '' (Anti-Captcha's FunCaptcha `data: ''`): absent.
    if (value === undefined || value === null || value === '') continue;
    if (typeof rule === 'string') {
      out.set(rule, typeof value === 'boolean' ? (value ? '1' : '0') : typeof value === 'object' ? JSON.stringify(value) : String(value));
      continue;
    }
    const problem = rule(value, out);
    if (problem) return { ok: false, error: v2Error('ERROR_BAD_PARAMETERS', problem) };
  }
  // Anti-Captcha names GeeTest v4's captcha_id `gt`; 2Captcha sends it in `initParameters`.
  if (out.get('method') === 'geetest_v4' && !out.has('captcha_id') && out.has('gt')) out.set('captcha_id', out.get('gt') as string);
  if (spec.proxy !== 'none') {
    const problem = proxyFields(object, out);
    if (problem === 'missing' && spec.proxy === 'required') {
      return { ok: false, error: v2Error('ERROR_BAD_PARAMETERS', 'this task type needs `proxyType`, `proxyAddress` and `proxyPort`') };
    }
    if (problem !== undefined && problem !== 'missing') return { ok: false, error: v2Error('ERROR_BAD_PARAMETERS', problem) };
  }
  return { ok: true, fields: out, type: spec };
}

/** A v1 error for a v2 task, its message speaking of the v2 field names the client sent. */
export function v2ErrorForTask(code: string, detail: string | undefined, type: V2TaskType): V2Error {
  let text = detail;
  if (text !== undefined) {
    for (const [v2Name, rule] of Object.entries(type.fields)) {
      if (typeof rule === 'string') text = text.replaceAll(`\`${rule}\``, `\`${v2Name}\``);
    }
  }
  const error = v2ErrorFor(code, text);
  // ERROR_PAGEURL's own description names websiteURL already.
  return code === 'ERROR_PAGEURL' ? { ...error, errorDescription: V2_CODES.ERROR_PAGEURL.errorDescription } : error;
}

const CLICK = /^click:([0-9/]+)$/;
const POINT = /x=(-?[0-9]+),y=(-?[0-9]+)/g;

/** A solved task's `solution` object, with the field names each vendor documents for its type. */
export function v2Solution(type: TaskType, solution: Solution): Record<string, unknown> {
  switch (solution.kind) {
    case 'geetest':
      return { challenge: solution.challenge, validate: solution.validate, seccode: solution.seccode };
    case 'cells':
      return { cells: [...solution.cells] };
    case 'clearance':
      return { cf_clearance: solution.cookie, userAgent: solution.userAgent };
    case 'object':
      // Anti-Captcha answers Amazon WAF with the `aws-waf-token` value as `token`; 2Captcha with the two fields.
      return type === 'amazon_waf' ? { ...solution.fields, token: solution.fields.existing_token } : { ...solution.fields };
    case 'points':
      return { coordinates: solution.points.map(({ x, y }) => ({ x, y })) };
    case 'text':
      break;
  }
  const { text } = solution;
  const userAgent = solution.userAgent === undefined ? {} : { userAgent: solution.userAgent };
  switch (type) {
    case 'image':
    case 'textcaptcha':
    case 'audio':
      return { text };
    case 'userrecaptcha':
      return { gRecaptchaResponse: text, token: text };
    case 'hcaptcha':
      return { gRecaptchaResponse: text, token: text, respKey: '', ...userAgent };
    case 'datadome':
      return { cookie: text };
    case 'grid': {
      const cells = CLICK.exec(text)?.[1];
      return { click: cells === undefined ? [] : cells.split('/').map(Number) };
    }
    case 'rotate':
      return { rotate: Number(text) };
    case 'coordinates':
      return { coordinates: [...text.matchAll(POINT)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) })) };
    default:
      return { token: text, ...userAgent };
  }
}
