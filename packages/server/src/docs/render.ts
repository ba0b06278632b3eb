/**
 * Generated documentation: docs/errors.md, docs/parameters.md, docs/sandbox.md,
 * docs/configuration.md and docs/operations.md are rendered from the tables the code itself runs on.
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
import { HUMAN_TYPES } from '../solving/solvers/human.js';
import { Metrics } from '../metrics.js';
import type { Storage } from '../storage/types.js';
import { renderRelayDoc } from './relay.js';

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

/** The metrics Solvebox defines (not prom-client's process metrics), as the registry holds them. */
function metricRows(): string[] {
  // Nothing is read from storage until a scrape, which this does not do.
  const metrics = new Metrics({} as Storage, undefined);
  return metrics.registry
    .getMetricsAsArray()
    .filter((m) => !m.name.startsWith('solvebox_process_'))
    .map((m) => {
      const { name, help, type } = m as unknown as { name: string; help: string; type: string };
      const labels = (m as unknown as { labelNames?: string[] }).labelNames ?? [];
      return `| \`${name}\` | ${type} | ${labels.map((l) => `\`${l}\``).join(', ')} | ${cell(help)} |`;
    });
}

export function renderOperationsDoc(): string {
  return [
    GENERATED('packages/server/src/metrics.ts and this renderer'),
    '',
    '# Operations: the console, people at the desk, metrics',
    '',
    '## The console',
    '',
    "`solvebox serve` serves the operators' console on a listener of its own: `--console-host` (default `127.0.0.1`, so that",
    'the public API never exposes it) and `--console-port` (default 8081; `0` picks a free one). Once it accepts requests',
    'the server prints `console on http://HOST:PORT` next to `listening on ...`. `--console 0` turns it off.',
    'Put it behind a TLS-terminating proxy before you bind it to anything but loopback: its cookies are not marked',
    '`Secure`, because on loopback there is no TLS.',
    '',
    '- **Operators** are people: `solvebox operators create NAME [--role admin|solver]` prints a generated password,',
    '  and nothing else, on stdout (`list`, `disable`, `enable` too; `--db FILE` or `--redis URL`). On an empty',
    '  database `npm start` creates `admin` (role admin) and prints its password once. `solver` operators see the solve',
    '  view; `admin` operators also see the dashboard.',
    '- **Passwords** are stored as scrypt hashes (N=16384, r=8, p=1). **Sessions** are random 256-bit ids in an',
    '  httpOnly, SameSite=Strict cookie that expires (`--console-session`, 12 hours); they live in the memory of the',
    "  console process, so a restart logs everyone out. Every state change must carry the session's CSRF token in",
    '  the `x-csrf-token` header. Five failed logins within five minutes, per address or per operator name, refuse',
    '  further logins for that address or name until the window has passed (HTTP 429 with `Retry-After`).',
    '- Every response carries a strict Content-Security-Policy (scripts, styles, images and connections from the',
    '  console itself only, no inline script, no frames). Text from clients (instructions, questions) is rendered',
    '  as text. Captcha images are served only to the operator who holds the task.',
    '- The app is bundled at build time (`packages/console-ui`: Preact, htm and uPlot, by esbuild) and served by the',
    '  server; nothing loads from a CDN.',
    '',
    '## People at the desk: the `human` backend',
    '',
    `A person can answer these task types: ${HUMAN_TYPES.map((t) => `\`${t}\``).join(', ')}. Route them to people`,
    'with `--solvers` (`--solvers grid=human,bls=human`) or as the fallback of a declined reading',
    "(`--fallbacks image=human`, the default: the OCR model's doubtful readings go to people).",
    '',
    '- A task waits on the desk until an operator answers it. Each operator holds one task at a time, for',
    '  `--operator-lease` seconds (60). Each task is offered to each operator once: an operator who skips it (Esc),',
    '  lets the lease run out or goes away does not see it again, and it goes to the next operator.',
    '- With no operator online (no solve view open on any node), the `human` solver declines at once: the task',
    '  goes to its next fallback, or the client gets `ERROR_CAPTCHA_UNSOLVABLE` without waiting for the deadline.',
    '  `--human-wait` bounds how long a task waits for a person (0: until its deadline).',
    '- An operator may mark a task unreadable (F2): the solver declines it.',
    "- Answers must keep the task's hints (`numeric`, `min_len`, `max_len`, `phrase`, `calc`, `language`); the",
    '  console checks them as the operator types and again on the server.',
    "- An answer reaches `res.php`, long-polls and pingbacks at once. Statistics and clients' `reportgood` /",
    '  `reportbad` count for the operator, as the solver `human:NAME` (`solvebox stats`, the dashboard).',
    '- On Redis the desk is shared: an operator on any node gets tasks submitted on any node and solved by any',
    '  process (a `solvebox worker` runs the human solver too).',
    '',
    '## The dashboard',
    '',
    'Admins see, refreshed every two seconds: tasks solved and failed per minute over the last 15 minutes (a chart),',
    'solve latency p50 and p95, the OCR decline rate, operators online, queue depth per task type with its solver and',
    "fallback, accuracy per solver and per operator from clients' reports, accounts (create, disable, threads,",
    'credit), banned addresses (lift), storage and solver health, the OCR model in use (its folder, how it was trained,',
    'when it was made and loaded, its validation figures) with a Reload button, and the audit log. The per-minute figures, latency',
    'and decline rate are those of the node that serves the console; queues, accounts, bans, accuracy and the desk',
    'are shared. Every admin action (and `solvebox operators disable|enable`) is appended to the audit log, which',
    'nothing can change or delete (SQLite refuses updates and deletes of it).',
    '',
    '`--ocr-model DIR` reads with the model in DIR (`ocr.onnx` and `ocr.json`, as training writes them) instead of the',
    'shipped one. Reload (or SIGHUP to `solvebox serve` or `solvebox worker`) loads the folder again: new reads use the',
    'new model, reads in progress finish on the old one, and a model that fails to load leaves the old one serving.',
    '',
    '## Training samples',
    '',
    'An image task whose answer is confirmed is kept as a labelled sample, with the hints it carried, for adapting',
    "the OCR model to the deployment's own captchas: an operator's answer is confirmed, and so is any solver's",
    "answer its client reports good (`reportgood`, `reportCorrect`). A `reportbad` drops the task's sample; a",
    'declined reading no one answered is never one. `--samples-keep` (5000) caps them, newest kept; `0` keeps none.',
    'Samples live in the storage (SQLite or Redis) and never leave the deployment. `solvebox ocr samples list`,',
    '`add DIR` (a folder with `labels.tsv`: `file<TAB>answer`), `export DIR` and `purge` manage them, and',
    '`solvebox ocr adapt` trains on them: see [ocr-adaptation.md](ocr-adaptation.md).',
    '',
    '## Metrics',
    '',
    '`GET /metrics` on the console listener, in the Prometheus text format (prom-client). Admins logged in to the',
    'console may read it; Prometheus reads it with the bearer token of `--metrics-token`. Gauges of shared state',
    '(queues, bans, the desk, operators online) are read from storage at each scrape, so every node of a Redis',
    "deployment reports the same figures for them; counters and histograms are the node's own. prom-client's",
    'process metrics (`solvebox_process_*`: CPU, memory, event-loop lag, GC) come too.',
    '',
    '| Metric | Type | Labels | Meaning |',
    '| --- | --- | --- | --- |',
    ...metricRows(),
    '',
    '### Scrape configuration',
    '',
    '```yaml',
    'scrape_configs:',
    '  - job_name: solvebox',
    '    scrape_interval: 15s',
    '    authorization:',
    '      type: Bearer',
    '      credentials_file: /etc/prometheus/solvebox-token   # the value of --metrics-token',
    '    static_configs:',
    '      - targets: ["127.0.0.1:8081"]                      # each node\'s --console-host:--console-port',
    '```',
    '',
    '### Alert rules',
    '',
    '```yaml',
    'groups:',
    '  - name: solvebox',
    '    rules:',
    '      - alert: SolveboxStorageUnreachable',
    '        expr: solvebox_scrape_storage_ok == 0',
    '        for: 1m',
    '        annotations: { summary: "Solvebox cannot read its storage (SQLite file or Redis)" }',
    '      - alert: SolveboxQueueBacklog',
    '        expr: sum by (type) (solvebox_queue_depth{state="queued"}) > 100',
    '        for: 5m',
    '        annotations: { summary: "{{ $labels.type }} tasks are queueing faster than they are solved" }',
    '      - alert: SolveboxTasksFailing',
    '        expr: sum(rate(solvebox_tasks_settled_total{outcome="failed"}[10m])) / sum(rate(solvebox_tasks_settled_total[10m])) > 0.5',
    '        for: 10m',
    '        annotations: { summary: "More than half of the tasks end in an error" }',
    '      - alert: SolveboxDeskUnattended',
    '        expr: sum(solvebox_desk_waiting) > 0 and solvebox_operators_online == 0',
    '        for: 2m',
    '        annotations: { summary: "Tasks wait for a person and no operator is online" }',
    '      - alert: SolveboxSlowApi',
    '        expr: histogram_quantile(0.95, sum by (le) (rate(solvebox_http_request_duration_seconds_bucket{endpoint="/res.php"}[5m]))) > 0.05',
    '        for: 10m',
    '        annotations: { summary: "res.php p95 above 50 ms" }',
    '      - alert: SolveboxBanWave',
    '        expr: increase(solvebox_bans_total[10m]) > 20',
    '        annotations: { summary: "Many addresses banned for failed authentication: a client with a wrong key, or guessing" }',
    '```',
    '',
  ].join('\n');
}

export const GENERATED_DOCS: ReadonlyArray<readonly [string, () => string]> = [
  ['docs/errors.md', renderErrorsDoc],
  ['docs/parameters.md', renderParametersDoc],
  ['docs/sandbox.md', renderSandboxDoc],
  ['docs/configuration.md', renderConfigurationDoc],
  ['docs/operations.md', renderOperationsDoc],
  ['docs/relay.md', renderRelayDoc],
];
