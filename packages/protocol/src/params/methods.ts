/**
 * The in.php methods: their parameters (validated in table order, the first problem wins) and how
 * validated values become a task. Parameters not listed here are ignored, as the vendors do.
 */
import type { ImageFormat, TaskSpec } from '../tasks.js';
import type { ParamSpec, ParamValues } from './fields.js';
import { checkImage, imageFromBase64 } from './images.js';
import type { MethodSpec } from './method-spec.js';
import { fail, type Failure } from './result.js';
import { IDEMPOTENCY_PARAM } from '../requests.js';
import { PAGEURL, PROXY_REQUIRED_PARAMS, USER_AGENT } from './shared.js';
import { LANG_CODES } from './languages.js';
import { MEDIA_METHODS } from './media.js';
import { dataFields, WIDGET_METHODS, type WidgetMethod } from './widgets.js';

export type { BuildContext, MethodSpec } from './method-spec.js';
export { LANG_CODES };

const IMAGE_HINT_PARAMS: readonly ParamSpec[] = [
  { name: 'phrase', type: { kind: 'flag' }, doc: '1: the answer has two or more words. Default 0.' },
  { name: 'regsense', type: { kind: 'flag' }, doc: '1: the answer is case-sensitive. Default 0.' },
  { name: 'numeric', type: { kind: 'int', min: 0, max: 4 }, doc: '0 any, 1 digits only, 2 letters only, 3 digits or letters, 4 both. Default 0.' },
  { name: 'calc', type: { kind: 'flag' }, doc: '1: the image shows arithmetic; answer its result. Default 0.' },
  { name: 'min_len', type: { kind: 'int', min: 0, max: 20 }, doc: 'Minimum answer length, 0 = none. Default 0.' },
  { name: 'max_len', type: { kind: 'int', min: 0, max: 20 }, doc: 'Maximum answer length, 0 = none. Default 0.' },
  { name: 'language', type: { kind: 'int', min: 0, max: 2 }, doc: '0 unspecified, 1 Cyrillic, 2 Latin. Default 0.' },
  { name: 'lang', type: { kind: 'choice', values: LANG_CODES, ignoreCase: true }, doc: 'Language code of the text, e.g. `en`.' },
  { name: 'textinstructions', type: { kind: 'text', maxLength: 140 }, doc: 'A text hint for the solver, at most 140 characters.' },
];

function buildImage(values: ParamValues, image: { bytes: Uint8Array; format: ImageFormat }): TaskSpec {
  const lang = values.text('lang');
  const instructions = values.text('textinstructions');
  return {
    type: 'image',
    image: image.bytes,
    format: image.format,
    hints: {
      phrase: values.flag('phrase'),
      caseSensitive: values.flag('regsense'),
      numeric: (values.number('numeric') ?? 0) as 0 | 1 | 2 | 3 | 4,
      calc: values.flag('calc'),
      minLength: values.number('min_len') ?? 0,
      maxLength: values.number('max_len') ?? 0,
      language: (values.number('language') ?? 0) as 0 | 1 | 2,
      ...(lang === undefined ? {} : { lang }),
      ...(instructions === undefined ? {} : { instructions }),
    },
  };
}

function checkLengthHints(values: ParamValues): Failure | undefined {
  const min = values.number('min_len') ?? 0;
  const max = values.number('max_len') ?? 0;
  if (min > 0 && max > 0 && min > max) return fail('ERROR_BAD_PARAMETERS', '`min_len` is greater than `max_len`');
  return undefined;
}

/** Copies the optional text parameters that are present, so that absent ones stay absent. */
function optional<K extends string>(values: ParamValues, names: Record<K, string>): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, name] of Object.entries(names) as [K, string][]) {
    const value = values.text(name);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

const BLS_CELLS = 9;
const blsCellParam = (i: number): string => `image_base64_${i}`;

const CORE_METHODS: readonly MethodSpec[] = [
  {
    method: 'post',
    type: 'image',
    summary: 'Normal image captcha, uploaded as a multipart file.',
    proxyRequired: false,
    params: [
      {
        name: 'file',
        type: { kind: 'image', encoding: 'multipart' },
        required: true,
        doc: 'The image (JPEG, PNG or GIF) as a multipart file part; its filename must end in jpg, jpeg, png or gif.',
      },
      ...IMAGE_HINT_PARAMS,
    ],
    build(values, ctx) {
      const lengths = checkLengthHints(values);
      if (lengths) return lengths;
      const file = ctx.request.files.get('file');
      if (file === undefined) return fail('ERROR_UPLOAD', 'no multipart file part named `file`');
      const checked = checkImage(file.data, ctx.limits, file.filename ?? '', 'the image');
      if (!checked.ok) return checked;
      return { ok: true, spec: buildImage(values, { bytes: file.data, format: checked.format }) };
    },
  },
  {
    method: 'base64',
    type: 'image',
    summary: 'Normal image captcha, sent as base64 text.',
    proxyRequired: false,
    params: [
      {
        name: 'body',
        type: { kind: 'image', encoding: 'base64' },
        required: true,
        doc: 'The image as base64; a `data:image/...;base64,` prefix is tolerated.',
      },
      ...IMAGE_HINT_PARAMS,
    ],
    build(values, ctx) {
      const lengths = checkLengthHints(values);
      if (lengths) return lengths;
      const body = ctx.request.fields.get('body');
      if (body === undefined || body.trim() === '') return fail('ERROR_UPLOAD', '`body` is missing or empty');
      const image = imageFromBase64(body, ctx.limits, ctx.decodeBase64, 'the image');
      if (!image.ok) return image;
      return { ok: true, spec: buildImage(values, image) };
    },
  },
  {
    method: 'userrecaptcha',
    type: 'userrecaptcha',
    summary: 'reCAPTCHA v2 (also invisible and Enterprise) and v3.',
    proxyRequired: false,
    params: [
      {
        name: 'googlekey',
        type: { kind: 'text', maxLength: 40, pattern: /^[0-9A-Za-z_-]{40}$/, patternDoc: 'a 40-character sitekey' },
        required: true,
        missingCode: 'ERROR_WRONG_GOOGLEKEY',
        blankCode: 'ERROR_GOOGLEKEY',
        invalidCode: 'ERROR_GOOGLEKEY',
        doc: 'The sitekey (`data-sitekey`, or `k` in the anchor URL), 40 characters.',
      },
      PAGEURL,
      { name: 'version', type: { kind: 'choice', values: ['v2', 'v3'] }, doc: '`v3` for reCAPTCHA v3; omit for v2.' },
      { name: 'action', type: { kind: 'text', maxLength: 100 }, doc: 'v3: the action passed to `grecaptcha.execute`. Default `verify`.' },
      { name: 'min_score', type: { kind: 'decimal', min: 0.1, max: 0.9 }, doc: 'v3: the score wanted, 0.1 to 0.9. Default 0.3.' },
      { name: 'enterprise', type: { kind: 'flag' }, doc: '1: reCAPTCHA Enterprise.' },
      { name: 'invisible', type: { kind: 'flag' }, doc: '1: invisible reCAPTCHA v2.' },
      { name: 'domain', type: { kind: 'choice', values: ['google.com', 'recaptcha.net'] }, doc: 'Domain the widget script loads from. Default `google.com`.' },
      { name: 'data-s', type: { kind: 'text', maxLength: 4096 }, doc: 'The `data-s` value on Google pages.' },
      {
        name: 'cookies',
        type: { kind: 'text', maxLength: 4096, pattern: /^([^:;=\s]+:[^;]*;?)+$/, patternDoc: '`KEY1:Value1;KEY2:Value2;`' },
        doc: 'Cookies for the solver, as `KEY1:Value1;KEY2:Value2;`.',
      },
      USER_AGENT,
    ],
    build(values) {
      const minScore = values.number('min_score');
      return {
        ok: true,
        spec: {
          type: 'userrecaptcha',
          googlekey: values.text('googlekey') as string,
          pageurl: values.text('pageurl') as string,
          version: (values.text('version') ?? 'v2') as 'v2' | 'v3',
          enterprise: values.flag('enterprise'),
          invisible: values.flag('invisible'),
          ...(minScore === undefined ? {} : { minScore }),
          ...optional(values, { action: 'action', dataS: 'data-s', cookies: 'cookies', userAgent: 'userAgent' }),
          ...(values.text('domain') === undefined ? {} : { domain: values.text('domain') as 'google.com' | 'recaptcha.net' }),
        },
      };
    },
  },
  {
    method: 'turnstile',
    type: 'turnstile',
    summary: 'Cloudflare Turnstile widget.',
    proxyRequired: false,
    params: [
      {
        name: 'sitekey',
        type: { kind: 'text', maxLength: 100, pattern: /^[0-9A-Za-z_-]+$/, patternDoc: 'a Turnstile sitekey' },
        required: true,
        doc: 'The widget sitekey (`data-sitekey`).',
      },
      PAGEURL,
      { name: 'action', type: { kind: 'text', maxLength: 100 }, doc: 'The widget `data-action`.' },
      { name: 'data', type: { kind: 'text', maxLength: 4096 }, doc: 'The widget `cData` (challenge pages).' },
      { name: 'pagedata', type: { kind: 'text', maxLength: 4096 }, doc: 'The `chlPageData` (challenge pages).' },
      USER_AGENT,
    ],
    build(values) {
      return {
        ok: true,
        spec: {
          type: 'turnstile',
          sitekey: values.text('sitekey') as string,
          pageurl: values.text('pageurl') as string,
          ...optional(values, { action: 'action', data: 'data', pagedata: 'pagedata', userAgent: 'userAgent' }),
        },
      };
    },
  },
  {
    method: 'cloudflare_challenge',
    type: 'cloudflare_challenge',
    summary: 'Cloudflare challenge page ("Just a moment..."); answers the `cf_clearance` cookie and its user agent.',
    proxyRequired: true,
    params: [PAGEURL, ...PROXY_REQUIRED_PARAMS, USER_AGENT],
    build(values) {
      return {
        ok: true,
        spec: { type: 'cloudflare_challenge', pageurl: values.text('pageurl') as string, ...optional(values, { userAgent: 'userAgent' }) },
      };
    },
  },
  {
    method: 'geetest',
    type: 'geetest',
    summary: 'GeeTest v3; answers `geetest_challenge`, `geetest_validate`, `geetest_seccode`.',
    proxyRequired: false,
    params: [
      {
        name: 'gt',
        type: { kind: 'text', maxLength: 64, pattern: /^[0-9A-Za-z]+$/, patternDoc: 'letters and digits' },
        required: true,
        doc: 'The static `gt` key.',
      },
      {
        name: 'challenge',
        type: { kind: 'text', maxLength: 256, pattern: /^[0-9A-Za-z_-]+$/, patternDoc: 'letters, digits, `-`, `_`' },
        required: true,
        doc: 'The fresh `challenge` for this task.',
      },
      PAGEURL,
      {
        name: 'api_server',
        type: { kind: 'text', maxLength: 253, pattern: /^[0-9A-Za-z.-]+$/, patternDoc: 'a host name' },
        doc: 'GeeTest API host, e.g. `api-na.geetest.com`.',
      },
      { name: 'offline', type: { kind: 'flag' }, doc: '1: GeeTest offline mode.' },
      { name: 'new_captcha', type: { kind: 'flag' }, doc: '1: the `new_captcha` init flag.' },
      USER_AGENT,
    ],
    build(values) {
      return {
        ok: true,
        spec: {
          type: 'geetest',
          gt: values.text('gt') as string,
          challenge: values.text('challenge') as string,
          pageurl: values.text('pageurl') as string,
          offline: values.flag('offline'),
          newCaptcha: values.flag('new_captcha'),
          ...optional(values, { apiServer: 'api_server', userAgent: 'userAgent' }),
        },
      };
    },
  },
  {
    method: 'bls',
    type: 'bls',
    summary: 'BLS 3x3 number grid; answers the cells to select as `[1, 4, 7, 8]`.',
    proxyRequired: false,
    params: [
      {
        name: 'instructions',
        aliases: ['textinstructions'],
        type: { kind: 'text', maxLength: 140 },
        required: true,
        doc: 'The number to select, e.g. `664`. Alias: `textinstructions`.',
      },
      {
        name: 'image_base64_1 .. image_base64_9',
        type: { kind: 'image', encoding: 'base64' },
        required: true,
        doc: 'The nine cells, left to right, top to bottom, each base64 or a data URI. Alias: one whole grid in `body`.',
      },
    ],
    build(values, ctx) {
      const instructions = values.text('instructions') as string;
      const fields = ctx.request.fields;
      const present = Array.from({ length: BLS_CELLS }, (_, i) => fields.get(blsCellParam(i + 1))).filter((v) => v !== undefined && v.trim() !== '');
      const texts: string[] = [];
      if (present.length === 0 && (fields.get('body') ?? '').trim() !== '') {
        texts.push(fields.get('body') as string);
      } else if (present.length === BLS_CELLS) {
        texts.push(...(present as string[]));
      } else {
        return fail('ERROR_BAD_PARAMETERS', `all of ${blsCellParam(1)} .. ${blsCellParam(BLS_CELLS)} are required (${present.length} sent)`);
      }
      const images: Uint8Array[] = [];
      for (const [i, text] of texts.entries()) {
        const image = imageFromBase64(text, ctx.limits, ctx.decodeBase64, texts.length === 1 ? '`body`' : `\`${blsCellParam(i + 1)}\``);
        if (!image.ok) return image;
        images.push(image.bytes);
      }
      return { ok: true, spec: { type: 'bls', instructions, images } };
    },
  },
];

/** A widget method as a MethodSpec: pageurl, the key, the rest; all of it kept in the task. */
function widgetSpec(widget: WidgetMethod): MethodSpec {
  return {
    method: widget.method,
    type: widget.type,
    summary: widget.summary,
    proxyRequired: widget.proxyRequired ?? false,
    params: [widget.key, PAGEURL, ...widget.params],
    build(values, ctx) {
      const { [widget.key.name]: sitekey, pageurl, proxy: _proxy, proxytype: _proxytype, ...params } = values.all();
      const data = widget.dataFields ? dataFields(ctx.request.fields) : {};
      if (typeof data === 'string') return fail('ERROR_BAD_PARAMETERS', data);
      return { ok: true, spec: { type: widget.type, pageurl: String(pageurl), sitekey: String(sitekey), params: { ...params, ...data } } };
    },
  };
}

/** Every in.php method: the seven Solvebox began with, the third-party widgets, then the picture, text and audio kinds. */
export const METHODS: readonly MethodSpec[] = [...CORE_METHODS, ...WIDGET_METHODS.map(widgetSpec), ...MEDIA_METHODS];

/** Parameters every method accepts. */
export const COMMON_PARAMS: readonly ParamSpec[] = [
  { name: 'proxy', type: { kind: 'text', maxLength: 512 }, doc: 'Proxy for the solver: `host:port` or `login:password@host:port`.' },
  { name: 'proxytype', type: { kind: 'text', maxLength: 16 }, doc: '`HTTP`, `HTTPS`, `SOCKS4` or `SOCKS5`; required with `proxy`.' },
  { name: 'pingback', type: { kind: 'url' }, doc: 'URL that receives the answer by POST (`id`, `code`) when the task ends.' },
  { name: 'soft_id', type: { kind: 'int', min: 0, max: 2_147_483_647 }, doc: 'Developer id; stored, not used.' },
  {
    name: IDEMPOTENCY_PARAM,
    type: { kind: 'text', maxLength: 64, pattern: /^[A-Za-z0-9_-]+$/, patternDoc: 'up to 64 letters, digits, `-`, `_`' },
    doc: "Solvebox extension: a submit repeated with the same key answers the first task's id instead of creating another, while that task is kept. Stock clients do not send it.",
  },
];

const BY_METHOD = new Map(METHODS.map((m) => [m.method, m]));

export function methodSpec(method: string): MethodSpec | undefined {
  return BY_METHOD.get(method);
}
