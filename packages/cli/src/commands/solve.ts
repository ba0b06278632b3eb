/** `solvebox solve <type> ...`: submit a captcha and wait for its answer. */
import { parseArgs } from 'node:util';
import type { ProxyInput, TaskInput } from '@solvebox/client';
import { isWidgetType, WIDGET_TYPES } from '@solvebox/protocol';
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, clientFromFlags } from '../client-options.js';
import { EXIT } from '../exit-codes.js';
import { Progress, abortOnInterrupt, printAnswer, reportError } from '../output.js';
import { UsageError, type Command } from '../command.js';

type Flags = Record<string, string | boolean | undefined>;

interface SolveKind {
  readonly name: string;
  readonly usage: string;
  readonly flags: Readonly<Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>;
  build(flags: Flags, positionals: readonly string[]): TaskInput;
}

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const PROXY_FLAGS = { proxy: str, 'proxy-type': str } as const;

function required(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function optional(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

function integer(flags: Flags, name: string, min: number, max: number): number | undefined {
  const value = optional(flags, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

function proxy(flags: Flags, need = false): ProxyInput | undefined {
  const address = need ? required(flags, 'proxy') : optional(flags, 'proxy');
  if (address === undefined) return undefined;
  const type = (optional(flags, 'proxy-type') ?? 'HTTP').toUpperCase();
  if (type !== 'HTTP' && type !== 'HTTPS' && type !== 'SOCKS4' && type !== 'SOCKS5') throw new UsageError('--proxy-type must be HTTP, HTTPS, SOCKS4 or SOCKS5');
  return { type, address };
}

/** `--data blob=abc --data x=y` as an object; undefined when none was given. */
function pairs(flags: Flags, name: string): Record<string, string> | undefined {
  const values = flags[name] as unknown as string[] | undefined;
  if (values === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const item of values) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${name} takes NAME=VALUE, not ${JSON.stringify(item)}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function oneFile(positionals: readonly string[]): string {
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('name one image file');
  return file;
}

/** Drops undefined values, so that optional task fields stay absent. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && v !== false)) as T;
}

const KINDS: readonly SolveKind[] = [
  {
    name: 'image',
    usage: 'image FILE [--numeric 0-4] [--min-len N] [--max-len N] [--phrase] [--case-sensitive] [--calc] [--language 0-2] [--lang CODE] [--instructions TEXT]',
    flags: { numeric: str, 'min-len': str, 'max-len': str, phrase: bool, 'case-sensitive': bool, calc: bool, language: str, lang: str, instructions: str },
    build(flags, positionals) {
      const [file, ...extra] = positionals;
      if (file === undefined || extra.length > 0) throw new UsageError('name one image file');
      return {
        type: 'image',
        image: file,
        hints: defined({
          numeric: integer(flags, 'numeric', 0, 4) as 0 | 1 | 2 | 3 | 4 | undefined,
          minLength: integer(flags, 'min-len', 0, 20),
          maxLength: integer(flags, 'max-len', 0, 20),
          phrase: flags.phrase === true || undefined,
          caseSensitive: flags['case-sensitive'] === true || undefined,
          calc: flags.calc === true || undefined,
          language: integer(flags, 'language', 0, 2) as 0 | 1 | 2 | undefined,
          lang: optional(flags, 'lang'),
          instructions: optional(flags, 'instructions'),
        }),
      };
    },
  },
  {
    name: 'recaptcha-v2',
    usage: 'recaptcha-v2 --sitekey KEY --pageurl URL [--invisible] [--enterprise] [--data-s S] [--cookies C] [--user-agent UA] [--proxy P --proxy-type T]',
    flags: { sitekey: str, pageurl: str, invisible: bool, enterprise: bool, 'data-s': str, cookies: str, 'user-agent': str, ...PROXY_FLAGS },
    build: (flags) =>
      defined({
        type: 'recaptchaV2',
        sitekey: required(flags, 'sitekey'),
        pageurl: required(flags, 'pageurl'),
        invisible: flags.invisible === true || undefined,
        enterprise: flags.enterprise === true || undefined,
        dataS: optional(flags, 'data-s'),
        cookies: optional(flags, 'cookies'),
        userAgent: optional(flags, 'user-agent'),
        proxy: proxy(flags),
      }),
  },
  {
    name: 'recaptcha-v3',
    usage: 'recaptcha-v3 --sitekey KEY --pageurl URL [--action A] [--min-score 0.3] [--enterprise]',
    flags: { sitekey: str, pageurl: str, action: str, 'min-score': str, enterprise: bool },
    build: (flags) =>
      defined({
        type: 'recaptchaV3',
        sitekey: required(flags, 'sitekey'),
        pageurl: required(flags, 'pageurl'),
        action: optional(flags, 'action'),
        minScore: optional(flags, 'min-score') === undefined ? undefined : Number(optional(flags, 'min-score')),
        enterprise: flags.enterprise === true || undefined,
      }),
  },
  {
    name: 'turnstile',
    usage: 'turnstile --sitekey KEY --pageurl URL [--action A] [--data D] [--pagedata P] [--user-agent UA] [--proxy P --proxy-type T]',
    flags: { sitekey: str, pageurl: str, action: str, data: str, pagedata: str, 'user-agent': str, ...PROXY_FLAGS },
    build: (flags) =>
      defined({
        type: 'turnstile',
        sitekey: required(flags, 'sitekey'),
        pageurl: required(flags, 'pageurl'),
        action: optional(flags, 'action'),
        data: optional(flags, 'data'),
        pagedata: optional(flags, 'pagedata'),
        userAgent: optional(flags, 'user-agent'),
        proxy: proxy(flags),
      }),
  },
  {
    name: 'cloudflare-challenge',
    usage: 'cloudflare-challenge --pageurl URL --proxy P [--proxy-type HTTP] [--user-agent UA]',
    flags: { pageurl: str, 'user-agent': str, ...PROXY_FLAGS },
    build: (flags) =>
      defined({
        type: 'cloudflareChallenge',
        pageurl: required(flags, 'pageurl'),
        proxy: proxy(flags, true) as ProxyInput,
        userAgent: optional(flags, 'user-agent'),
      }),
  },
  {
    name: 'geetest',
    usage: 'geetest --gt GT --challenge C --pageurl URL [--api-server HOST] [--user-agent UA] [--proxy P --proxy-type T]',
    flags: { gt: str, challenge: str, pageurl: str, 'api-server': str, 'user-agent': str, ...PROXY_FLAGS },
    build: (flags) =>
      defined({
        type: 'geetest',
        gt: required(flags, 'gt'),
        challenge: required(flags, 'challenge'),
        pageurl: required(flags, 'pageurl'),
        apiServer: optional(flags, 'api-server'),
        userAgent: optional(flags, 'user-agent'),
        proxy: proxy(flags),
      }),
  },
  {
    name: 'hcaptcha',
    usage: 'hcaptcha --sitekey KEY --pageurl URL [--invisible] [--data RQDATA] [--user-agent UA] [--proxy P --proxy-type T]',
    flags: { sitekey: str, pageurl: str, invisible: bool, data: str, 'user-agent': str, ...PROXY_FLAGS },
    build: (flags) =>
      defined({
        type: 'hcaptcha',
        sitekey: required(flags, 'sitekey'),
        pageurl: required(flags, 'pageurl'),
        invisible: flags.invisible === true || undefined,
        data: optional(flags, 'data'),
        userAgent: optional(flags, 'user-agent'),
        proxy: proxy(flags),
      }),
  },
  {
    name: 'funcaptcha',
    usage: 'funcaptcha --publickey KEY --pageurl URL [--surl URL] [--data NAME=VALUE ...] [--user-agent UA] [--proxy P --proxy-type T]',
    flags: { publickey: str, pageurl: str, surl: str, data: { type: 'string', multiple: true }, 'user-agent': str, ...PROXY_FLAGS },
    build: (flags) =>
      defined({
        type: 'funcaptcha',
        publickey: required(flags, 'publickey'),
        pageurl: required(flags, 'pageurl'),
        surl: optional(flags, 'surl'),
        data: pairs(flags, 'data'),
        userAgent: optional(flags, 'user-agent'),
        proxy: proxy(flags),
      }),
  },
  {
    name: 'geetest-v4',
    usage: 'geetest-v4 --captcha-id ID --pageurl URL [--risk-type T] [--proxy P --proxy-type T]',
    flags: { 'captcha-id': str, pageurl: str, 'risk-type': str, ...PROXY_FLAGS },
    build: (flags) =>
      defined({
        type: 'geetestV4',
        captchaId: required(flags, 'captcha-id'),
        pageurl: required(flags, 'pageurl'),
        riskType: optional(flags, 'risk-type'),
        proxy: proxy(flags),
      }),
  },
  {
    name: 'widget',
    usage: `widget --method ${WIDGET_TYPES.filter((t) => !['hcaptcha', 'funcaptcha', 'geetest_v4'].includes(t)).join('|')} --pageurl URL --param NAME=VALUE ... [--proxy P --proxy-type T]   (parameters: docs/parameters.md)`,
    flags: { method: str, pageurl: str, param: { type: 'string', multiple: true }, ...PROXY_FLAGS },
    build(flags) {
      const method = required(flags, 'method');
      if (!isWidgetType(method)) throw new UsageError(`--method must be one of ${WIDGET_TYPES.join(', ')}`);
      return defined({ type: 'widget', method, pageurl: required(flags, 'pageurl'), params: pairs(flags, 'param') ?? {}, proxy: proxy(flags) });
    },
  },
  {
    name: 'grid',
    usage: 'grid FILE [--instructions TEXT] [--rows N] [--columns N] [--can-skip]',
    flags: { instructions: str, rows: str, columns: str, 'can-skip': bool },
    build: (flags, positionals) =>
      defined({
        type: 'grid',
        image: oneFile(positionals),
        instructions: optional(flags, 'instructions'),
        rows: integer(flags, 'rows', 1, 10),
        columns: integer(flags, 'columns', 1, 10),
        canSkip: flags['can-skip'] === true || undefined,
      }),
  },
  {
    name: 'coordinates',
    usage: 'coordinates FILE [--instructions TEXT]',
    flags: { instructions: str },
    build: (flags, positionals) => defined({ type: 'coordinates', image: oneFile(positionals), instructions: optional(flags, 'instructions') }),
  },
  {
    name: 'rotate',
    usage: 'rotate FILE [--angle DEGREES]',
    flags: { angle: str },
    build: (flags, positionals) => defined({ type: 'rotate', image: oneFile(positionals), angle: integer(flags, 'angle', 1, 360) }),
  },
  {
    name: 'text',
    usage: 'text QUESTION [--lang CODE]',
    flags: { lang: str },
    build(flags, positionals) {
      if (positionals.length !== 1) throw new UsageError('give the question as one argument (quote it)');
      return defined({ type: 'textQuestion', question: positionals[0] as string, lang: optional(flags, 'lang') });
    },
  },
  {
    name: 'audio',
    usage: 'audio FILE.mp3 --lang en|ru|de|el|pt|fr',
    flags: { lang: str },
    build(flags, positionals) {
      const lang = required(flags, 'lang');
      if (!['en', 'ru', 'de', 'el', 'pt', 'fr'].includes(lang)) throw new UsageError('--lang must be en, ru, de, el, pt or fr');
      return { type: 'audio', audio: oneFile(positionals), lang: lang as 'en' };
    },
  },
  {
    name: 'bls',
    usage: 'bls --instructions NUMBER CELL1 ... CELL9   (image files, left to right, top to bottom)',
    flags: { instructions: str },
    build(flags, positionals) {
      if (positionals.length !== 9) throw new UsageError(`name the nine cell images (${positionals.length} given)`);
      return { type: 'bls', instructions: required(flags, 'instructions'), cells: positionals };
    },
  },
];

function help(): string {
  return ['usage: solvebox solve <type> [options]', '', 'types:', ...KINDS.map((k) => `  solvebox solve ${k.usage}`), '', CLIENT_FLAGS_HELP].join('\n');
}

export const solveCommand: Command = {
  async run(argv) {
    const [name, ...rest] = argv;
    const kind = KINDS.find((k) => k.name === name);
    if (!kind) {
      if (name === undefined || name === '--help' || name === '-h') {
        process.stdout.write(`${help()}\n`);
        return name === undefined ? EXIT.usage : EXIT.ok;
      }
      throw new UsageError(`unknown captcha type "${name}"; use one of ${KINDS.map((k) => k.name).join(', ')}`);
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: [...rest], options: { ...CLIENT_FLAGS, ...kind.flags }, strict: true, allowPositionals: true });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const flags = parsed.values as Flags;
    if (flags.help) {
      process.stdout.write(`usage: solvebox solve ${kind.usage}\n\n${CLIENT_FLAGS_HELP}\n`);
      return EXIT.ok;
    }
    const json = flags.json === true;
    const task = kind.build(flags, parsed.positionals);
    const progress = new Progress(json);
    const client = clientFromFlags(flags, process.env, progress.onEvent);
    const interrupt = abortOnInterrupt();
    try {
      const result = await client.solve(task, { signal: interrupt.signal });
      progress.done();
      printAnswer(result.answer, json, { taskId: result.taskId, type: kind.name, elapsedMs: result.elapsedMs, tasks: result.tasks });
      return EXIT.ok;
    } catch (err) {
      progress.done();
      return reportError(err, json);
    } finally {
      interrupt.dispose();
    }
  },
};
