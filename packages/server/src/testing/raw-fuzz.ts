/**
 * Byte-level fuzzing of the protocol endpoints: requests no HTTP library would form (truncated and
 * malformed multipart, broken chunked encoding, lying Content-Lengths, connections closed
 * mid-body, pipelining, garbage). Used by the test suite (a seeded few thousand cases) and by
 * `npm run fuzz` (as many as asked). Every answer on a connection the client kept open must be
 * HTTP 200 with a protocol answer; no case may leave the connection hanging; and the server must
 * stay alive and answer a normal poll after every batch.
 */
import { ERROR_CATALOG, isKnownCode } from '@solvebox/protocol';
import { rawExchange, type RawOptions, type RawOutcome } from './raw-http.js';

/** mulberry32: small, seedable, good enough to pick test inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RawCase {
  /** The kind of fault, for the counts. */
  readonly kind: string;
  readonly chunks: readonly (string | Uint8Array)[];
  readonly options: RawOptions;
}

/** Codes a protocol endpoint may answer to a client's fault; fault codes would mean a server bug. */
const CLIENT_CODES: ReadonlySet<string> = new Set(
  Object.entries(ERROR_CATALOG)
    .filter(([code, entry]) => entry.served && code !== 'ERROR_INTERNAL_SERVER_ERROR' && code !== 'ERROR_SERVER_ERROR')
    .map(([code]) => code),
);

/**
 * Whether a response is a protocol answer: HTTP 200, and a plain or JSON in.php/res.php answer, or
 * a JSON API answer (`errorId` 0, or a number with `errorCode` and `errorDescription`).
 */
export function isProtocolAnswer(status: number, body: string): boolean {
  if (status !== 200) return false;
  if (body.startsWith('{')) {
    try {
      const parsed = JSON.parse(body) as { status?: unknown; request?: unknown; errorId?: unknown; errorCode?: unknown; errorDescription?: unknown };
      if ('errorId' in parsed) {
        return (
          parsed.errorId === 0 || (typeof parsed.errorId === 'number' && typeof parsed.errorCode === 'string' && typeof parsed.errorDescription === 'string')
        );
      }
      if (parsed.status === 1) return parsed.request !== undefined;
      return parsed.status === 0 && typeof parsed.request === 'string' && isKnownCode(parsed.request) && CLIENT_CODES.has(parsed.request);
    } catch {
      return false;
    }
  }
  return body.startsWith('OK|') || body === 'OK_REPORT_RECORDED' || /^-?[0-9]+(\.[0-9]+)?$/.test(body) || CLIENT_CODES.has(body);
}

const CRLF = '\r\n';
const PATHS = ['/in.php', '/res.php', '/in.php?json=1', '/res.php?json=1', '/in.php?json=1&header_acao=1', '/createTask', '/getTaskResult', '/getBalance'];

/** A well-formed image: enough for in.php to take a submit to admission. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVR4nGP4jwMwDC0JALoev0Ewkwr8AAAAAElFTkSuQmCC',
  'base64',
);

export class RawCaseGenerator {
  private readonly random: () => number;

  constructor(
    seed: number,
    private readonly key: string,
  ) {
    this.random = prng(seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private int(max: number): number {
    return Math.floor(this.random() * max);
  }

  private fields(): Record<string, string> {
    const key = this.random() < 0.8 ? this.key : this.pick(['', 'short', 'k'.repeat(32)]);
    return this.pick<Record<string, string>>([
      { key, method: 'turnstile', sitekey: '1x00000000000000000000AA', pageurl: 'https://example.com/' },
      { key, method: 'base64', body: PNG.toString('base64') },
      { key, action: 'getbalance' },
      { key, action: 'get', id: '1234567890123456' },
      { key, method: 'post' },
      { key, method: 'userrecaptcha', googlekey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI', pageurl: 'https://example.com/', invisible: 'false' },
      { key, method: 'hcaptcha', sitekey: '10000000-ffff-ffff-ffff-000000000001', pageurl: 'https://example.com/' },
      { key, method: 'funcaptcha', publickey: 'SANDBOX-KEY', pageurl: 'https://example.com/', 'data[blob]': 'x' },
      { key, method: 'base64', recaptcha: '1', textinstructions: 'trees', body: PNG.toString('base64') },
      { key, textcaptcha: 'What is two plus two?' },
      { clientKey: key, task: JSON.stringify({ type: 'ImageToTextTask', body: PNG.toString('base64') }) },
      { clientKey: key, task: JSON.stringify({ type: 'HCaptchaTaskProxyless', websiteURL: 'https://example.com/', websiteKey: 'k' }) },
      { clientKey: key, taskId: '1234567890123456' },
    ]);
  }

  private head(method: string, path: string, headers: readonly string[]): string {
    return `${method} ${path} HTTP/1.1${CRLF}Host: fuzz${CRLF}${headers.map((h) => h + CRLF).join('')}${CRLF}`;
  }

  private multipart(boundary: string): Buffer {
    const parts: Buffer[] = [];
    for (const [name, value] of Object.entries(this.fields())) {
      if (name === 'body') continue;
      parts.push(Buffer.from(`--${boundary}${CRLF}Content-Disposition: form-data; name="${name}"${CRLF}${CRLF}${value}${CRLF}`));
    }
    parts.push(
      Buffer.from(`--${boundary}${CRLF}Content-Disposition: form-data; name="file"; filename="c.png"${CRLF}Content-Type: image/png${CRLF}${CRLF}`),
      PNG,
      Buffer.from(CRLF),
    );
    parts.push(Buffer.from(`--${boundary}--${CRLF}`));
    return Buffer.concat(parts);
  }

  /** One case, chosen among every kind with equal weight. */
  next(): RawCase {
    const kinds = [
      () => this.truncatedMultipart(),
      () => this.malformedMultipart(),
      () => this.chunked(),
      () => this.lyingLength(),
      () => this.closedMidBody(),
      () => this.pipelined(),
      () => this.garbage(),
      () => this.oversized(),
      () => this.urlencodedOddities(),
    ];
    return this.pick(kinds)();
  }

  /** A multipart body cut anywhere, announced with its true (cut) length: the crash of issue 16. */
  private truncatedMultipart(): RawCase {
    const boundary = this.pick(['XX', '----solvebox', 'a'.repeat(70)]);
    const body = this.multipart(boundary);
    const cut = body.subarray(0, this.int(body.length));
    const exactLength = this.random() < 0.7;
    return {
      kind: exactLength ? 'multipart cut, exact length' : 'multipart cut, length of the whole',
      chunks: [
        this.head('POST', this.pick(PATHS), [
          `Content-Type: multipart/form-data; boundary=${boundary}`,
          `Content-Length: ${exactLength ? cut.length : body.length}`,
        ]),
        cut,
      ],
      options: {},
    };
  }

  private malformedMultipart(): RawCase {
    const boundary = 'XX';
    const variants: (() => { body: Buffer; type: string })[] = [
      // no closing boundary at all
      () => ({
        body: Buffer.from(this.multipart(boundary).toString('latin1').replace(`--${boundary}--${CRLF}`, ''), 'latin1'),
        type: `multipart/form-data; boundary=${boundary}`,
      }),
      // the boundary inside the data
      () => ({
        body: Buffer.concat([
          Buffer.from(
            `--${boundary}${CRLF}Content-Disposition: form-data; name="file"; filename="x"${CRLF}${CRLF}ab--${boundary}cd${CRLF}--${boundary}${CRLF}--${boundary}--`,
          ),
        ]),
        type: `multipart/form-data; boundary=${boundary}`,
      }),
      // huge part headers
      () => ({
        body: Buffer.from(
          `--${boundary}${CRLF}Content-Disposition: form-data; name="key"; x="${'h'.repeat(20_000 + this.int(80_000))}"${CRLF}${CRLF}v${CRLF}--${boundary}--${CRLF}`,
        ),
        type: `multipart/form-data; boundary=${boundary}`,
      }),
      // thousands of parts
      () => ({
        body: Buffer.from(
          `${Array.from({ length: 1000 + this.int(4000) }, (_, i) => `--${boundary}${CRLF}Content-Disposition: form-data; name="f${i}"${CRLF}${CRLF}${i}${CRLF}`).join('')}--${boundary}--${CRLF}`,
        ),
        type: `multipart/form-data; boundary=${boundary}`,
      }),
      // a type without a boundary, and a boundary that never appears
      () => ({
        body: this.multipart(boundary),
        type: this.pick(['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=NOPE', 'multipart/mixed; boundary=XX']),
      }),
      // parts without headers, without CRLFs, with binary noise
      () => ({
        body: Buffer.concat([Buffer.from(`--${boundary}${CRLF}${CRLF}`), this.noise(200), Buffer.from(`--${boundary}`), this.noise(50)]),
        type: `multipart/form-data; boundary=${boundary}`,
      }),
    ];
    const { body, type } = this.pick(variants)();
    return {
      kind: 'multipart malformed',
      chunks: [this.head('POST', this.pick(PATHS), [`Content-Type: ${type}`, `Content-Length: ${body.length}`]), body],
      options: {},
    };
  }

  private chunked(): RawCase {
    const body = new URLSearchParams(this.fields()).toString();
    const split = this.int(body.length);
    const good = `${split.toString(16)}${CRLF}${body.slice(0, split)}${CRLF}${(body.length - split).toString(16)}${CRLF}${body.slice(split)}${CRLF}0${CRLF}${CRLF}`;
    const variant = this.pick([
      'cut' as const,
      'bad size' as const,
      'lying size' as const,
      'no final chunk' as const,
      'huge size' as const,
      'extension' as const,
      'with length' as const,
    ]);
    const type = 'Content-Type: application/x-www-form-urlencoded';
    switch (variant) {
      case 'cut':
        return {
          kind: 'chunked cut off',
          chunks: [this.head('POST', this.pick(PATHS), [type, 'Transfer-Encoding: chunked']), good.slice(0, this.int(good.length))],
          options: {},
        };
      case 'bad size':
        return {
          kind: 'chunked malformed',
          chunks: [this.head('POST', this.pick(PATHS), [type, 'Transfer-Encoding: chunked']), `ZZ${CRLF}${body}${CRLF}0${CRLF}${CRLF}`],
          options: {},
        };
      case 'lying size':
        return {
          kind: 'chunked malformed',
          chunks: [
            this.head('POST', this.pick(PATHS), [type, 'Transfer-Encoding: chunked']),
            `${(body.length + 1 + this.int(50)).toString(16)}${CRLF}${body}${CRLF}0${CRLF}${CRLF}`,
          ],
          options: {},
        };
      case 'no final chunk':
        return {
          kind: 'chunked cut off',
          chunks: [this.head('POST', this.pick(PATHS), [type, 'Transfer-Encoding: chunked']), `${body.length.toString(16)}${CRLF}${body}${CRLF}`],
          options: {},
        };
      case 'huge size':
        return {
          kind: 'chunked malformed',
          chunks: [this.head('POST', this.pick(PATHS), [type, 'Transfer-Encoding: chunked']), `ffffffffffffffffff${CRLF}${body}`],
          options: {},
        };
      case 'extension':
        return {
          kind: 'chunked well-formed',
          chunks: [
            this.head('POST', this.pick(PATHS), [type, 'Transfer-Encoding: chunked']),
            `${body.length.toString(16)};ext=1${CRLF}${body}${CRLF}0${CRLF}${CRLF}`,
          ],
          options: {},
        };
      case 'with length':
        return {
          kind: 'chunked malformed',
          chunks: [this.head('POST', this.pick(PATHS), [type, 'Transfer-Encoding: chunked', `Content-Length: ${good.length}`]), good],
          options: {},
        };
    }
  }

  private lyingLength(): RawCase {
    const body = new URLSearchParams(this.fields()).toString();
    const type = this.pick(['application/x-www-form-urlencoded', 'application/json', 'text/plain', '']);
    const headers = (length: string): string[] => [...(type === '' ? [] : [`Content-Type: ${type}`]), `Content-Length: ${length}`];
    const variant = this.int(5);
    if (variant === 0)
      return { kind: 'length too short', chunks: [this.head('POST', this.pick(PATHS), headers(String(this.int(body.length)))), body], options: {} };
    if (variant === 1)
      return { kind: 'length too long', chunks: [this.head('POST', this.pick(PATHS), headers(String(body.length + 1 + this.int(10_000)))), body], options: {} };
    if (variant === 2)
      return {
        kind: 'length malformed',
        chunks: [this.head('POST', this.pick(PATHS), headers(this.pick(['-1', 'abc', '1e3', '0x10', ' ', '99999999999999999999', '12, 13']))), body],
        options: {},
      };
    if (variant === 3)
      return {
        kind: 'length malformed',
        chunks: [this.head('POST', this.pick(PATHS), [...headers(String(body.length)), `Content-Length: ${body.length + 5}`]), body],
        options: {},
      };
    return { kind: 'length too long', chunks: [this.head('POST', this.pick(PATHS), headers(String(DRAIN_HINT))), body], options: {} };
  }

  /** The client goes away mid-body: nothing to answer; the server must simply live on. */
  private closedMidBody(): RawCase {
    const multipart = this.random() < 0.5;
    const body = multipart ? this.multipart('XX') : Buffer.from(new URLSearchParams(this.fields()).toString());
    const type = multipart ? 'multipart/form-data; boundary=XX' : 'application/x-www-form-urlencoded';
    return {
      kind: 'closed mid-body',
      chunks: [this.head('POST', this.pick(PATHS), [`Content-Type: ${type}`, `Content-Length: ${body.length}`]), body.subarray(0, this.int(body.length))],
      options: { afterWriting: 'close' },
    };
  }

  private pipelined(): RawCase {
    const count = 2 + this.int(4);
    const requests: string[] = [];
    for (let i = 0; i < count; i++) {
      if (this.random() < 0.5)
        requests.push(
          this.head('GET', `/res.php?${new URLSearchParams({ key: this.key, action: this.pick(['get', 'getbalance']), id: '1234567890123456' })}`, []),
        );
      else {
        const body = new URLSearchParams(this.fields()).toString();
        requests.push(
          this.head('POST', this.pick(PATHS), ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${Buffer.byteLength(body)}`]) + body,
        );
      }
    }
    if (this.random() < 0.5) {
      // Garbage after the well-formed ones: each of those is answered, then the garbage.
      return {
        kind: 'pipelined, then garbage',
        chunks: [requests.join('') + this.pick(['garbage\r\n\r\n', 'GET\r\n\r\n', '\u0000\u0001\u0002', 'POST /in.php HTTP/9.9\r\n\r\n'])],
        options: { expect: count + 1 },
      };
    }
    return { kind: 'pipelined', chunks: [requests.join('')], options: { afterWriting: 'keep', expect: count } };
  }

  private garbage(): RawCase {
    const variant = this.int(7);
    if (variant === 0) return { kind: 'garbage', chunks: [this.noise(1 + this.int(3000))], options: {} };
    if (variant === 1)
      return {
        kind: 'garbage',
        chunks: [
          `${this.pick(['GET', 'POST', 'PUT', 'BREW', 'get'])} ${this.pick(PATHS)} ${this.pick(['HTTP/1.1', 'HTTP/2.0', 'HTTP/1', 'FOO', ''])}${CRLF}${CRLF}`,
        ],
        options: {},
      };
    if (variant === 2)
      return { kind: 'header oversized', chunks: [this.head('GET', this.pick(PATHS), [`X-Big: ${'b'.repeat(20_000 + this.int(500_000))}`])], options: {} };
    if (variant === 3)
      return { kind: 'header malformed', chunks: [`GET ${this.pick(PATHS)} HTTP/1.1${CRLF}Host fuzz${CRLF}: nothing${CRLF}${CRLF}`], options: {} };
    if (variant === 4)
      return {
        kind: 'query oversized',
        chunks: [this.head('GET', `/in.php?key=${this.key}&method=base64&body=${'A'.repeat(500_000 + this.int(500_000))}`, [])],
        options: {},
      };
    if (variant === 5)
      return {
        kind: 'headers cut',
        chunks: [this.head('POST', this.pick(PATHS), ['Content-Type: application/json', 'Content-Length: 10']).slice(0, 10 + this.int(40))],
        options: {},
      };
    return {
      kind: 'header malformed',
      chunks: [
        this.head('POST', this.pick(PATHS), [
          this.pick([
            'Content-Type: ',
            'Content-Type: ;;;',
            'Content-Type: multipart/form-data; boundary="unterminated',
            'Transfer-Encoding: gzip, chunked',
            'Transfer-Encoding: bogus',
            'Expect: 100-continue',
          ]),
        ]),
        'key=x',
      ],
      options: {},
    };
  }

  private oversized(): RawCase {
    const size = OVERSIZED_BODY + this.int(OVERSIZED_BODY);
    return {
      kind: 'body oversized',
      chunks: [
        this.head('POST', this.pick(PATHS), [
          this.pick([
            'Content-Type: application/x-www-form-urlencoded',
            'Content-Type: application/json',
            'Content-Type: multipart/form-data; boundary=XX',
            'Content-Type: text/plain',
          ]),
          `Content-Length: ${size}`,
        ]),
        Buffer.alloc(size, 0x61),
      ],
      options: {},
    };
  }

  private urlencodedOddities(): RawCase {
    const body = this.pick([
      `key=${this.key}&action=getbalance`,
      `{"key":"${this.key}","action":"getbalance"}`,
      `{"key":"${this.key}","method":"turnstile","sitekey":"1x00000000000000000000AA","pageurl":"https://example.com/","json":true}`,
      '%%%&&&===',
      '{"key": [1, 2, {',
    ]);
    const type = this.pick(['', 'text/plain', 'text/plain; charset=utf-8', 'multipart/form-data', 'application/octet-stream']);
    return {
      kind: 'body without a usable type',
      chunks: [this.head('POST', this.pick(PATHS), [...(type === '' ? [] : [`Content-Type: ${type}`]), `Content-Length: ${Buffer.byteLength(body)}`]), body],
      options: {},
    };
  }

  private noise(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(256)));
  }
}

/** A Content-Length far past what is sent: the server must not wait for it once the client half-closed. */
const DRAIN_HINT = 50_000_000;
/** Oversized bodies are sized against the 32 kB body limit the fuzz servers run with. */
export const FUZZ_BODY_LIMIT = 32 * 1024;
const OVERSIZED_BODY = FUZZ_BODY_LIMIT + 1;

export interface FuzzCounts {
  cases: number;
  /** Responses on connections the client kept open. */
  responses: number;
  /** Responses that are not HTTP 200 with a protocol answer. */
  nonProtocol: number;
  /** Open connections (the client waited) that got no answer before the server closed them. */
  unanswered: number;
  /** Connections neither answered nor closed within the time limit. */
  hangs: number;
  /** Liveness checks after a batch that failed (the process died or stopped answering). */
  crashes: number;
  byKind: Record<string, number>;
  /** The first few failures, for the report. */
  failures: string[];
}

export function emptyCounts(): FuzzCounts {
  return { cases: 0, responses: 0, nonProtocol: 0, unanswered: 0, hangs: 0, crashes: 0, byKind: {}, failures: [] };
}

/** Judges one outcome and adds it to the counts. */
export function judge(counts: FuzzCounts, label: string, rawCase: RawCase, outcome: RawOutcome): void {
  counts.cases++;
  counts.byKind[rawCase.kind] = (counts.byKind[rawCase.kind] ?? 0) + 1;
  const fail = (what: string): void => {
    if (counts.failures.length < 20) counts.failures.push(`${label} (${rawCase.kind}): ${what}`);
  };
  if (outcome.hung) {
    counts.hangs++;
    fail('no answer and no close within the time limit');
  }
  if (rawCase.options.afterWriting === 'close') return; // nobody is there to answer
  counts.responses += outcome.responses.length;
  for (const response of outcome.responses) {
    if (!isProtocolAnswer(response.status, response.body)) {
      counts.nonProtocol++;
      fail(`HTTP ${response.status} ${JSON.stringify(response.body.slice(0, 120))}`);
    }
  }
  const expected = rawCase.options.expect ?? 1;
  if (!outcome.hung && outcome.responses.length < expected) {
    counts.unanswered++;
    fail(
      `${outcome.responses.length} of ${expected} answers${outcome.reset ? ', then a reset' : ''}; trailing ${JSON.stringify(outcome.trailing.slice(0, 80))}`,
    );
  }
}

/**
 * Runs `total` cases against a server, `concurrency` at a time, checking after every `batch` cases
 * that a normal poll still gets its answer.
 */
export async function fuzzRaw(options: {
  readonly url: string;
  readonly key: string;
  readonly seed: number;
  readonly total: number;
  readonly concurrency?: number;
  readonly batch?: number;
  readonly onBatch?: (counts: FuzzCounts) => void;
}): Promise<FuzzCounts> {
  const generator = new RawCaseGenerator(options.seed, options.key);
  const counts = emptyCounts();
  const batch = options.batch ?? 250;
  const concurrency = options.concurrency ?? 8;
  let done = 0;
  while (done < options.total) {
    const size = Math.min(batch, options.total - done);
    const cases = Array.from({ length: size }, () => generator.next());
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < cases.length) {
          const n = next++;
          const rawCase = cases[n] as RawCase;
          judge(counts, `case ${done + n} (seed ${options.seed})`, rawCase, await rawExchange(options.url, rawCase.chunks, rawCase.options));
        }
      }),
    );
    done += size;
    if (!(await answersPolls(options.url, options.key))) {
      counts.crashes++;
      counts.failures.push(`after case ${done}: a normal poll got no right answer`);
      break;
    }
    options.onBatch?.(counts);
  }
  return counts;
}

/** Whether the server answers a balance request and a poll of an unknown id as it should. */
export async function answersPolls(url: string, key: string): Promise<boolean> {
  try {
    const signal = AbortSignal.timeout(5000);
    const poll = await fetch(`${url}/res.php?key=${key}&action=get&id=1234567890123456`, { signal });
    const balance = await fetch(`${url}/res.php?key=${key}&action=getbalance`, { signal });
    return poll.status === 200 && (await poll.text()) === 'ERROR_WRONG_CAPTCHA_ID' && /^[0-9.]+$/.test(await balance.text());
  } catch {
    return false;
  }
}
