/**
 * The third-party widget methods of 2Captcha's v1 API (hCaptcha, FunCaptcha, GeeTest v4, ...), as
 * data: each names the parameter that identifies the widget on its page, its other parameters,
 * and whether it needs a proxy. They all become a WidgetTask: `pageurl`, the key, and the rest
 * of the validated parameters by their wire names. Parameter names and meanings follow 2Captcha's
 * API page and its official clients.
 */
import type { WidgetType } from '../tasks.js';
import type { ParamSpec } from './fields.js';
import { PROXY_REQUIRED_PARAMS, USER_AGENT } from './shared.js';

/** A widget key: letters, digits and the punctuation keys use (Amazon's are base64); long enough for every vendor's. */
const KEY_PATTERN = /^[0-9A-Za-z_.:+/=-]+$/;

export function keyParam(name: string, doc: string, maxLength = 256): ParamSpec {
  return {
    name,
    type: { kind: 'text', maxLength, pattern: KEY_PATTERN, patternDoc: 'letters, digits, `-`, `_`, `.`, `:`, `+`, `/`, `=`' },
    required: true,
    doc,
  };
}

function text(name: string, doc: string, maxLength = 4096): ParamSpec {
  return { name, type: { kind: 'text', maxLength }, doc };
}

function host(name: string, doc: string): ParamSpec {
  return { name, type: { kind: 'text', maxLength: 2048, pattern: /^[^\s]+$/, patternDoc: 'a host name or URL' }, doc };
}

export interface WidgetMethod {
  readonly method: string;
  readonly type: WidgetType;
  readonly summary: string;
  /** The parameter whose value identifies the widget on the page. */
  readonly key: ParamSpec;
  /** The other parameters, after `pageurl`. */
  readonly params: readonly ParamSpec[];
  readonly proxyRequired?: boolean;
  /** FunCaptcha: `data[blob]=...` and the like, kept as sent. */
  readonly dataFields?: boolean;
}

export const WIDGET_METHODS: readonly WidgetMethod[] = [
  {
    method: 'hcaptcha',
    type: 'hcaptcha',
    summary: 'hCaptcha; answers a token (its published test sitekeys answer their documented tokens).',
    key: keyParam('sitekey', 'The widget sitekey (`data-sitekey`).'),
    params: [
      { name: 'invisible', type: { kind: 'flag' }, doc: '1: the invisible widget.' },
      text('data', 'The `rqdata` value some sites pass (mostly with `invisible=1`).'),
      { name: 'domain', type: { kind: 'choice', values: ['hcaptcha.com', 'js.hcaptcha.com'] }, doc: 'Domain the widget loads from. Default `hcaptcha.com`.' },
      USER_AGENT,
    ],
  },
  {
    method: 'funcaptcha',
    type: 'funcaptcha',
    summary: 'Arkose Labs FunCaptcha; answers a token (it contains `|`).',
    key: keyParam('publickey', 'The public key (`pk` or `data-pkey`).'),
    params: [host('surl', 'The service URL (`surl`) the widget loads from.'), USER_AGENT],
    dataFields: true,
  },
  {
    method: 'keycaptcha',
    type: 'keycaptcha',
    summary: 'KeyCaptcha; answers a token (it contains `|`).',
    key: keyParam('s_s_c_user_id', 'The `s_s_c_user_id` value on the page.'),
    params: [
      { ...keyParam('s_s_c_session_id', 'The `s_s_c_session_id` value on the page.') },
      { ...keyParam('s_s_c_web_server_sign', 'The `s_s_c_web_server_sign` value on the page.', 1024) },
      { ...keyParam('s_s_c_web_server_sign2', 'The `s_s_c_web_server_sign2` value on the page.', 1024) },
    ],
  },
  {
    method: 'capy',
    type: 'capy',
    summary: 'Capy puzzle; answers a JSON object of `captchakey`, `challengekey`, `answer`.',
    key: keyParam('captchakey', 'The Capy key (`captchakey`).'),
    params: [host('api_server', 'The script host, e.g. `https://jp.api.capy.me/`.'), USER_AGENT],
  },
  {
    method: 'lemin',
    type: 'lemin',
    summary: 'Lemin cropped captcha; answers a JSON object of `answer` and `challenge_id`.',
    key: keyParam('captcha_id', 'The `captcha_id` on the page.'),
    params: [keyParam('div_id', 'The `id` of the captcha’s parent `div`.'), host('api_server', 'The script host, e.g. `api.leminnow.com`.'), USER_AGENT],
  },
  {
    method: 'amazon_waf',
    type: 'amazon_waf',
    summary: 'Amazon WAF captcha; answers a JSON object of `captcha_voucher` and `existing_token`.',
    key: keyParam('sitekey', 'The `key` value on the page.', 1024),
    params: [
      { ...keyParam('iv', 'The `iv` value on the page.', 1024) },
      { ...keyParam('context', 'The `context` value on the page.', 4096) },
      host('challenge_script', 'The URL of `challenge.js`.'),
      host('captcha_script', 'The URL of `captcha.js`.'),
    ],
  },
  {
    method: 'mt_captcha',
    type: 'mt_captcha',
    summary: 'MTCaptcha; answers a token.',
    key: keyParam('sitekey', 'The MTCaptcha sitekey (`MTPublic-...`).'),
    params: [USER_AGENT],
  },
  {
    method: 'cutcaptcha',
    type: 'cutcaptcha',
    summary: 'CutCaptcha; answers a token.',
    key: keyParam('misery_key', 'The `CUTCAPTCHA_MISERY_KEY` value on the page.'),
    params: [keyParam('api_key', 'The `data-apikey` value of the iframe.')],
  },
  {
    method: 'friendly_captcha',
    type: 'friendly_captcha',
    summary: 'Friendly Captcha; answers a token.',
    key: keyParam('sitekey', 'The `data-sitekey` of the widget.'),
    params: [USER_AGENT],
  },
  {
    method: 'tencent',
    type: 'tencent',
    summary: 'Tencent captcha; answers a JSON object of `appid`, `ret`, `ticket`, `randstr`.',
    key: keyParam('app_id', 'The `appId` (`data-appid`) on the page.'),
    params: [USER_AGENT],
  },
  {
    method: 'atb_captcha',
    type: 'atb_captcha',
    summary: 'atbCAPTCHA; answers a token.',
    key: keyParam('app_id', 'The `appId` on the page.'),
    params: [{ ...host('api_server', 'The `apiServer` on the page.'), required: true }, USER_AGENT],
  },
  {
    method: 'datadome',
    type: 'datadome',
    summary: 'DataDome; answers the `datadome` cookie. A proxy and the user agent are required: the cookie is bound to both.',
    key: { name: 'captcha_url', type: { kind: 'url' }, required: true, doc: 'The URL of the DataDome captcha iframe (`geo.captcha-delivery.com/...`).' },
    params: [{ ...USER_AGENT, required: true }, ...PROXY_REQUIRED_PARAMS],
    proxyRequired: true,
  },
  {
    method: 'cybersiara',
    type: 'cybersiara',
    summary: 'CyberSiARA; answers a token.',
    key: keyParam('master_url_id', 'The `MasterUrlId` on the page.'),
    params: [USER_AGENT],
  },
  {
    method: 'prosopo',
    type: 'prosopo',
    summary: 'Prosopo Procaptcha; answers a token.',
    key: keyParam('sitekey', 'The `data-sitekey` of the widget.'),
    params: [],
  },
  {
    method: 'captchafox',
    type: 'captchafox',
    summary: 'CaptchaFox; answers a token. A proxy is required.',
    key: keyParam('sitekey', 'The `data-sitekey` of the widget.'),
    params: [USER_AGENT, ...PROXY_REQUIRED_PARAMS],
    proxyRequired: true,
  },
  {
    method: 'geetest_v4',
    type: 'geetest_v4',
    summary: 'GeeTest v4; answers a JSON object of `captcha_id`, `lot_number`, `pass_token`, `gen_time`, `captcha_output`.',
    key: keyParam('captcha_id', 'The `captcha_id` given to `initGeetest4`.'),
    params: [text('risk_type', 'The `risk_type` given to `initGeetest4`, when there is one.', 64), USER_AGENT],
  },
];

/** `data[blob]=...`: FunCaptcha's custom data fields, by their names inside the brackets. */
const DATA_FIELD = /^data\[([A-Za-z0-9_.-]{1,64})\]$/;
const MAX_DATA_FIELDS = 16;

export function dataFields(fields: ReadonlyMap<string, string>): Record<string, string> | string {
  const out: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of fields) {
    const match = DATA_FIELD.exec(name);
    if (!match) continue;
    if (++count > MAX_DATA_FIELDS) return `at most ${MAX_DATA_FIELDS} \`data[...]\` fields`;
    if (value.length > 4096) return `\`${name}\` must be at most 4096 characters`;
    out[`data[${match[1]}]`] = value;
  }
  return out;
}
