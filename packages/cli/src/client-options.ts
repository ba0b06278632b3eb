/**
 * The options every client command shares: where the server is, the key, timing, output. Flags
 * win over SOLVEBOX_URL / SOLVEBOX_KEY.
 */
import { Solvebox, type SolveboxOptions } from '@solvebox/client';
import { UsageError } from './command.js';

export const CLIENT_FLAGS = {
  url: { type: 'string' },
  key: { type: 'string' },
  protocol: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  'poll-interval': { type: 'string' },
  'first-poll-delay': { type: 'string' },
  retries: { type: 'string' },
  'retry-delay': { type: 'string' },
  'on-ban': { type: 'string' },
  resubmit: { type: 'string' },
  help: { type: 'boolean' },
} as const;

export const CLIENT_FLAGS_HELP = `connection and timing (every command):
  --url URL                 server; default $SOLVEBOX_URL, else http://127.0.0.1:8080
  --key KEY                 API key; default $SOLVEBOX_KEY
  --protocol v1|v2          in.php/res.php (v1, default) or the JSON createTask API (v2)
  --json                    machine-readable output on stdout
  --timeout SECONDS         overall deadline (default: 180 for images, 360 for tokens)
  --poll-interval SECONDS   between polls (default 5)
  --first-poll-delay SECONDS  before the first poll (default: 5 images, 15 tokens, 20 Cloudflare)
  --retries N               retries of server errors and network failures (default 5)
  --retry-delay SECONDS     first backoff delay, doubling (default: 10 for server errors, 5 for network)
  --on-ban fail|wait        when the IP is banned (default fail)
  --resubmit N              fresh tasks after ERROR_CAPTCHA_UNSOLVABLE (default 0)`;

type Values = { [K in keyof typeof CLIENT_FLAGS]?: (typeof CLIENT_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${flag} must be a number of seconds`);
  return Math.round(n * 1000);
}

function count(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} must be a whole number`);
  return n;
}

export function clientFromFlags(values: Values, env: NodeJS.ProcessEnv, onProgress?: SolveboxOptions['onProgress']): Solvebox {
  const apiKey = values.key ?? env.SOLVEBOX_KEY;
  if (!apiKey) throw new UsageError('no API key: pass --key or set SOLVEBOX_KEY');
  const onBan = values['on-ban'];
  if (onBan !== undefined && onBan !== 'fail' && onBan !== 'wait') throw new UsageError('--on-ban must be fail or wait');
  const protocol = values.protocol ?? env.SOLVEBOX_PROTOCOL;
  if (protocol !== undefined && protocol !== 'v1' && protocol !== 'v2') throw new UsageError('--protocol must be v1 or v2');
  const options: Record<string, unknown> = {
    apiKey,
    baseUrl: values.url ?? env.SOLVEBOX_URL ?? 'http://127.0.0.1:8080',
    protocol,
    timeoutMs: seconds('timeout', values.timeout),
    pollIntervalMs: seconds('poll-interval', values['poll-interval']),
    firstPollDelayMs: seconds('first-poll-delay', values['first-poll-delay']),
    retries: count('retries', values.retries),
    retryBaseDelayMs: seconds('retry-delay', values['retry-delay']),
    onBan,
    resubmitUnsolvable: count('resubmit', values.resubmit),
    onProgress,
  };
  for (const [name, value] of Object.entries(options)) if (value === undefined) delete options[name];
  try {
    return new Solvebox(options as unknown as SolveboxOptions);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
