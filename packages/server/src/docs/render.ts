/**
 * Generated documentation: docs/errors.md, docs/parameters.md, docs/sandbox.md and
 * docs/configuration.md are rendered from the tables the code itself runs on.
 * `npm run docs` writes them; a test fails when a committed file differs from its rendering.
 */
import {
  COMMON_PARAMS,
  ERROR_CATALOG,
  METHODS,
  RES_ACTIONS,
  V2_CODES,
  V2_TASK_TYPES,
  v2Mapping,
  type CatalogEntry,
  type ErrorCode,
  type ParamSpec,
} from '@solvebox/protocol';
import { OPTIONS, envName } from '../config.js';
import { SANDBOX_DIRECTIVES, SANDBOX_TEST_KEYS } from '../solving/solvers/sandbox.js';

const GENERATED = (source: string): string =>
  `<!-- Generated from ${source} by \`npm run docs\`. Do not edit by hand: a test compares this file with its source. -->`;

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function anchor(code: string): string {
  return code
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function retryText(entry: CatalogEntry): string {
  const delay = entry.delayMs === undefined ? '' : ` (${entry.ban ? 'ban of ' : ''}${entry.delayMs / 1000} s)`;
  return `${entry.retry}${delay}`;
}

function v2Text(code: ErrorCode): string {
  const mapped = v2Mapping(code);
  return mapped === undefined ? '`status: "processing"`' : `${mapped.errorId} \`${mapped.errorCode}\``;
}

export function renderErrorsDoc(): string {
  const entries = Object.entries(ERROR_CATALOG) as [string, CatalogEntry][];
  const lines = [
    GENERATED('packages/protocol/src/errors/catalog.ts'),
    '',
    '# Error codes',
    '',
    'Every code of the in.php / res.php protocol family, whether Solvebox answers it, and how a client should react.',
    'Answers are always HTTP 200; the code is the body (plain) or `request` with `"status":0` (JSON, with `error_text`).',
    '',
    'Retry classes:',
    '- `fix-request`: the request is wrong; retrying it unchanged cannot succeed.',
    '- `retry-later`: a transient fault; retry the same request after the delay, with backoff. A *ban* lasts its',
    '  whole delay: wait it out in one go or fail, since retrying during it only prolongs it.',
    "- `wait-for-thread`: all of the account's threads are busy; retry when one of your tasks finishes.",
    '- `task-failed`: the task is over and failed; submit a new one if you still need an answer.',
    '- `not-ready`: still solving; poll again after the delay.',
    '',
    '| Code | Endpoints | Retry class | Solvebox answers it | JSON API (`errorId` `errorCode`) |',
    '| --- | --- | --- | --- | --- |',
    ...entries.map(
      ([code, e]) =>
        `| [\`${code}\`](#${anchor(code)}) | ${e.endpoints.join(', ')} | ${retryText(e)} | ${e.served ? 'yes' : 'no'} | ${v2Text(code as ErrorCode)} |`,
    ),
    '',
    "## The JSON API's own codes",
    '',
    'The createTask API answers HTTP 200 with `{"errorId": N, "errorCode": "...", "errorDescription": "..."}`, numbered as',
    '2Captcha (v2) and Anti-Captcha number them. Every code above maps to one of these (the table above); a code without a',
    'v2 equivalent keeps its own name with the nearest number.',
    '',
    '| `errorId` | `errorCode` | Meaning |',
    '| ---: | --- | --- |',
    ...Object.entries(V2_CODES).map(([code, e]) => `| ${e.errorId} | \`${code}\` | ${cell(e.errorDescription)} |`),
    '',
  ];
  for (const [code, e] of entries) {
    lines.push(
      `<a id="${anchor(code)}"></a>`,
      `## \`${code}\``,
      '',
      `- **Meaning:** ${e.description}`,
      `- **When Solvebox answers it:** ${e.cause}`,
      `- **Fix:** ${e.fix}`,
      `- **Retry class:** \`${retryText(e)}\``,
      `- **Endpoints:** ${e.endpoints.join(', ')}`,
      `- **Documented by:** ${e.vendors.length > 0 ? e.vendors.join(', ') : 'no vendor (tolerated spelling)'}`,
      `- **JSON API:** ${v2Text(code as ErrorCode)}`,
      '',
    );
  }
  return lines.join('\n');
}

function paramType(spec: ParamSpec): string {
  const t = spec.type;
  switch (t.kind) {
    case 'text':
      return t.patternDoc ? `text, ${t.patternDoc}` : `text, ≤ ${t.maxLength} chars`;
    case 'url':
      return 'http(s) URL';
    case 'flag':
      return '0 or 1';
    case 'int':
      return `integer ${t.min}..${t.max}`;
    case 'decimal':
      return `number ${t.min}..${t.max}`;
    case 'choice':
      return t.values.length > 8 ? `one of ${t.values.length} codes (${t.values.slice(0, 6).join(', ')}, …)` : t.values.map((v) => `\`${v}\``).join(', ');
    case 'image':
      return t.encoding === 'multipart' ? 'file part' : 'base64';
  }
}

function paramRow(spec: ParamSpec): string {
  const codes = [spec.missingCode, spec.blankCode, spec.invalidCode].filter((c, i, all) => c !== undefined && all.indexOf(c) === i);
  const errors = codes.length > 0 ? codes.map((c) => `\`${c}\``).join(', ') : '`ERROR_BAD_PARAMETERS`';
  return `| \`${spec.name}\` | ${spec.required ? 'yes' : 'no'} | ${cell(paramType(spec))} | ${cell(spec.doc)} | ${errors} |`;
}

export function renderParametersDoc(): string {
  const header = ['| Parameter | Required | Type | Meaning | Code when missing/invalid |', '| --- | --- | --- | --- | --- |'];
  const lines = [
    GENERATED('packages/protocol/src/params/methods.ts'),
    '',
    '# in.php methods and parameters',
    '',
    'Parameters come from the query string and the body (urlencoded, multipart or JSON); the body wins. An empty value counts as absent.',
    'Parameters not listed are ignored. Checks run in table order and the first problem answers; see docs/protocol.md for the order of the other checks.',
    '',
    '## Parameters of every method',
    '',
    '| Parameter | Required | Type | Meaning | Code when missing/invalid |',
    '| --- | --- | --- | --- | --- |',
    '| `key` | yes | 32 characters | Your API key. | `ERROR_WRONG_USER_KEY`, `ERROR_KEY_DOES_NOT_EXIST` |',
    '| `method` | yes | see below | The task type. | `ERROR_BAD_PARAMETERS` |',
    '| `json` | no | 0 or 1 | 1: answer JSON `{"status":..,"request":..}`. | — |',
    '| `header_acao` | no | 0 or 1 | 1: add `Access-Control-Allow-Origin: *`. | — |',
    ...COMMON_PARAMS.map(paramRow),
    '',
  ];
  for (const method of METHODS) {
    lines.push(
      `## \`method=${method.method}\``,
      '',
      `${method.summary} Task type \`${method.type}\`${method.proxyRequired ? '; a proxy is required' : ''}.`,
      ...(method.alsoSelectedBy ? ['', `Also selected by ${method.alsoSelectedBy}.`] : []),
      '',
      ...header,
      ...method.params.map(paramRow),
      '',
    );
  }
  lines.push(
    '# The JSON createTask API',
    '',
    '`POST /createTask` with `{"clientKey": KEY, "task": {"type": TYPE, ...}, "callbackUrl"?, "softId"?}`, then',
    '`POST /getTaskResult` with `{"clientKey": KEY, "taskId": ID}` (add `"wait": SECONDS` to long-poll). Each task type is',
    'the v1 method below it in these tables, with its fields renamed; the same checks answer. Types without `Proxyless`',
    'take `proxyType`, `proxyAddress`, `proxyPort`, `proxyLogin`, `proxyPassword` (or one `proxy` string).',
    '',
    '| Task type | v1 method | Fields (v2 → v1) | Answer |',
    '| --- | --- | --- | --- |',
    ...V2_TASK_TYPES.map((t) => {
      const fields = Object.entries(t.fields)
        .map(([v2, rule]) => (typeof rule === 'string' ? `\`${v2}\`→\`${rule}\`` : `\`${v2}\``))
        .join(', ');
      return `| \`${t.type}\` | \`${t.fixed.method}\` | ${cell(fields)} | ${cell(t.summary)} |`;
    }),
    '',
  );
  lines.push('# res.php actions', '', '| `action` | Answer |', '| --- | --- |');
  for (const [action, doc] of Object.entries(RES_ACTIONS)) lines.push(`| \`${action}\` | ${cell(doc)} |`);
  lines.push('');
  return lines.join('\n');
}

export function renderSandboxDoc(): string {
  return [
    GENERATED('packages/server/src/solvers/sandbox.ts'),
    '',
    '# The sandbox solver',
    '',
    'The sandbox answers every task type with deterministic fake answers, so that client developers can run their',
    'code end to end without a real solver, and reach every res.php outcome on purpose. It is the default backend',
    'for every task type (`--solvers *=sandbox`); route a type elsewhere with `--solvers`.',
    '',
    '## Answers',
    '',
    '- **Images** (`post`, `base64`): a string derived from the image bytes, shaped by the hints: `numeric`, `min_len`,',
    '  `max_len`, `regsense` (first letter upper case), `phrase` (two words), `calc` (a number).',
    '- **reCAPTCHA**: a token starting `03SANDBOX_`. **Turnstile**: a token starting `0.SANDBOX_`.',
    "- **Cloudflare challenge**: a `cf_clearance` value starting `SANDBOX_`, with the task's `userAgent` (or a default one)",
    '  as `user_agent` and `useragent`.',
    "- **GeeTest**: `geetest_challenge` (the task's challenge), `geetest_validate`, `geetest_seccode`.",
    '- **BLS**: a non-empty list of cells, e.g. `[1, 4, 7, 8]`.',
    '- **hCaptcha**: a token starting `P1_SANDBOX_`. **FunCaptcha** and **KeyCaptcha**: tokens that contain `|`, as theirs do.',
    '  **DataDome**: a `datadome=SANDBOX_...` cookie line. The other token widgets: a token starting `SANDBOX_`.',
    '- **Capy, Lemin, Amazon WAF, Tencent, GeeTest v4**: a JSON object with the field names each vendor documents',
    '  (res.php answers it as JSON whatever `json` says, as for GeeTest).',
    '- **Grid**: `click:` and the cells, e.g. `click:2/5/9` (`No_matching_images` when `can_no_answer=1` and none match).',
    '  **Coordinates**: `coordinates:x=39,y=59;x=252,y=72`. **Rotate**: an angle, a multiple of `angle`.',
    '  **Text questions**: a word; **audio**: six digits.',
    '',
    'The same input always gets the same answer.',
    '',
    "## Providers' test keys",
    '',
    '| Method | Sitekey | Outcome |',
    '| --- | --- | --- |',
    ...SANDBOX_TEST_KEYS.map((k) => `| ${k.type} | \`${k.sitekey}\` | ${cell(k.outcome)} |`),
    '',
    '## Magic values',
    '',
    'Put `sandbox=<value>` in the query of `pageurl` (token methods, e.g. `https://example.com/login?sandbox=unsolvable`),',
    'or in `textinstructions` (images, grids, coordinates, rotate), `instructions` (BLS) or the question (`textcaptcha`).',
    '',
    '| Value | Outcome |',
    '| --- | --- |',
    ...SANDBOX_DIRECTIVES.map((d) => `| \`${d.usage}\` | ${cell(d.outcome)} |`),
    '',
  ].join('\n');
}

export function renderConfigurationDoc(): string {
  return [
    GENERATED('packages/server/src/config.ts'),
    '',
    '# Configuration',
    '',
    'Options come from defaults, then `SOLVEBOX_*` environment variables, then `solvebox serve` flags; later wins.',
    'Durations in seconds accept decimals (`--image-deadline 0.5`).',
    '',
    '| Flag | Environment | Default | Meaning |',
    '| --- | --- | --- | --- |',
    ...OPTIONS.map((o) => `| \`--${o.flag}\` | \`${envName(o.flag)}\` | \`${cell(o.default)}\` | ${cell(o.doc)} |`),
    '',
  ].join('\n');
}

export const GENERATED_DOCS: ReadonlyArray<readonly [string, () => string]> = [
  ['docs/errors.md', renderErrorsDoc],
  ['docs/parameters.md', renderParametersDoc],
  ['docs/sandbox.md', renderSandboxDoc],
  ['docs/configuration.md', renderConfigurationDoc],
];
