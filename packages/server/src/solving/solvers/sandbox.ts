/**
 * The sandbox solver: deterministic fake answers for every task type, the providers' published
 * test keys, and magic values that make every res.php outcome reachable on purpose, so that client
 * developers can test their error handling. docs/sandbox.md is generated from the tables here.
 */
import { createHash } from 'node:crypto';
import { SolverFailure, TASK_TYPES, type Solution, type SolveContext, type Solver, type Task, type TaskSpec } from '@solvebox/protocol';

/** A magic value: `sandbox=<name>` (or `sandbox=<name>:<arg>`) in the task's pageurl query or instructions. */
export interface SandboxDirective {
  readonly name: string;
  readonly usage: string;
  readonly outcome: string;
}

export const SANDBOX_DIRECTIVES: readonly SandboxDirective[] = [
  {
    name: 'delay',
    usage: 'sandbox=delay:SECONDS',
    outcome: 'res.php answers CAPCHA_NOT_READY for SECONDS (decimals allowed), then the normal sandbox answer.',
  },
  { name: 'unsolvable', usage: 'sandbox=unsolvable', outcome: 'ERROR_CAPTCHA_UNSOLVABLE at once, without retries.' },
  {
    name: 'proxy-fail',
    usage: 'sandbox=proxy-fail',
    outcome: "ERROR_PROXY_CONNECTION_FAILED; the task's proxy is then refused by in.php with ERROR_BAD_PROXY for the bad-proxy TTL (10 minutes).",
  },
  {
    name: 'bad-pair',
    usage: 'sandbox=bad-pair',
    outcome:
      'ERROR_BAD_TOKEN_OR_PAGEURL; the same sitekey/pageurl pair is then refused by in.php with ERROR_BAD_TOKEN_OR_PAGEURL for the bad-pair TTL (10 minutes).',
  },
  { name: 'flaky', usage: 'sandbox=flaky', outcome: 'The first attempt fails and is retried; the second attempt answers normally.' },
  {
    name: 'crash',
    usage: 'sandbox=crash',
    outcome:
      'The backend throws on every attempt: ERROR_CAPTCHA_UNSOLVABLE once the attempts are spent. Consecutive crashes open the circuit, and in.php answers ERROR_INTERNAL_SERVER_ERROR for the cool-down.',
  },
  { name: 'hang', usage: 'sandbox=hang', outcome: 'Never answers: ERROR_CAPTCHA_UNSOLVABLE when the task deadline passes.' },
  { name: 'answer', usage: 'sandbox=answer:TEXT', outcome: 'Image tasks: answers exactly TEXT (up to 64 letters, digits, `.`, `-`, `_`).' },
];

/** The providers' published test keys, answered as the providers document. */
export interface SandboxTestKey {
  readonly type: 'userrecaptcha' | 'turnstile';
  readonly sitekey: string;
  readonly behaviour: 'token' | 'dummy-token' | 'block' | 'interactive';
  readonly outcome: string;
}

export const TURNSTILE_DUMMY_TOKEN = 'XXXX.DUMMY.TOKEN.XXXX';

export const SANDBOX_TEST_KEYS: readonly SandboxTestKey[] = [
  {
    type: 'userrecaptcha',
    sitekey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI',
    behaviour: 'token',
    outcome: "A token. Google's test secret `6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe` accepts any token, so this works end to end.",
  },
  { type: 'turnstile', sitekey: '1x00000000000000000000AA', behaviour: 'dummy-token', outcome: `\`${TURNSTILE_DUMMY_TOKEN}\` (always passes, visible).` },
  { type: 'turnstile', sitekey: '1x00000000000000000000BB', behaviour: 'dummy-token', outcome: `\`${TURNSTILE_DUMMY_TOKEN}\` (always passes, invisible).` },
  { type: 'turnstile', sitekey: '2x00000000000000000000AB', behaviour: 'block', outcome: 'ERROR_CAPTCHA_UNSOLVABLE (always blocks, visible).' },
  { type: 'turnstile', sitekey: '2x00000000000000000000BB', behaviour: 'block', outcome: 'ERROR_CAPTCHA_UNSOLVABLE (always blocks, invisible).' },
  {
    type: 'turnstile',
    sitekey: '3x00000000000000000000FF',
    behaviour: 'interactive',
    outcome: `Forces an interactive challenge: CAPCHA_NOT_READY for 5 s, then \`${TURNSTILE_DUMMY_TOKEN}\`.`,
  },
];

const DEFAULT_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const DIRECTIVE = /(?:^|[?&\s])sandbox=([a-z-]+)(?::([A-Za-z0-9._-]{1,64}))?/;

interface Directive {
  readonly name: string;
  readonly arg?: string;
}

/** Where a task carries its magic value: the pageurl's query for token tasks, the instructions otherwise. */
function directiveOf(spec: TaskSpec): Directive | undefined {
  const carrier = spec.type === 'image' ? spec.hints.instructions : spec.type === 'bls' ? spec.instructions : pageurlQuery(spec.pageurl);
  const match = carrier === undefined ? null : DIRECTIVE.exec(carrier);
  if (!match) return undefined;
  return { name: match[1] as string, ...(match[2] === undefined ? {} : { arg: match[2] }) };
}

function pageurlQuery(pageurl: string): string {
  const q = pageurl.indexOf('?');
  return q < 0 ? '' : pageurl.slice(q);
}

export class SandboxSolver implements Solver {
  readonly name = 'sandbox';
  readonly types = TASK_TYPES;
  /** Sandbox work is timers, not CPU: a slow magic value must not hold up other tasks. */
  readonly concurrency = 1000;

  async solve(task: Task, { signal }: SolveContext): Promise<Solution> {
    const directive = directiveOf(task.spec);
    const testKey = testKeyOutcome(task.spec);
    if (testKey === 'block') throw new SolverFailure('ERROR_CAPTCHA_UNSOLVABLE', 'sandbox: the test sitekey always blocks', true);
    if (testKey === 'interactive') await sleep(5000, signal);
    switch (directive?.name) {
      case 'delay':
        await sleep(Number(directive.arg ?? '0') * 1000, signal);
        break;
      case 'unsolvable':
        throw new SolverFailure('ERROR_CAPTCHA_UNSOLVABLE', 'sandbox: unsolvable on request', true);
      case 'proxy-fail':
        throw new SolverFailure('ERROR_PROXY_CONNECTION_FAILED', 'sandbox: proxy failure on request');
      case 'bad-pair':
        throw new SolverFailure('ERROR_BAD_TOKEN_OR_PAGEURL', 'sandbox: invalid sitekey/pageurl pair on request');
      case 'flaky':
        if (task.attempt === 1) throw new SolverFailure('ERROR_CAPTCHA_UNSOLVABLE', 'sandbox: first attempt fails on request', false);
        break;
      case 'crash':
        throw new Error('sandbox: simulated backend crash');
      case 'hang':
        await sleep(Number.POSITIVE_INFINITY, signal);
        break;
    }
    return answer(task.spec, directive);
  }
}

function testKeyOutcome(spec: TaskSpec): SandboxTestKey['behaviour'] | undefined {
  if (spec.type !== 'turnstile' && spec.type !== 'userrecaptcha') return undefined;
  const sitekey = spec.type === 'turnstile' ? spec.sitekey : spec.googlekey;
  return SANDBOX_TEST_KEYS.find((k) => k.type === spec.type && k.sitekey === sitekey)?.behaviour;
}

function answer(spec: TaskSpec, directive: Directive | undefined): Solution {
  switch (spec.type) {
    case 'image':
      if (directive?.name === 'answer' && directive.arg !== undefined) return { kind: 'text', text: directive.arg };
      return { kind: 'text', text: imageAnswer(spec) };
    case 'userrecaptcha':
      return { kind: 'text', text: `03SANDBOX_${digest(spec.googlekey, spec.pageurl, spec.version, spec.action ?? '').slice(0, 400)}` };
    case 'turnstile':
      if (testKeyOutcome(spec) !== undefined) return { kind: 'text', text: TURNSTILE_DUMMY_TOKEN, ...(spec.userAgent ? { userAgent: spec.userAgent } : {}) };
      return { kind: 'text', text: `0.SANDBOX_${digest(spec.sitekey, spec.pageurl).slice(0, 300)}`, ...(spec.userAgent ? { userAgent: spec.userAgent } : {}) };
    case 'cloudflare_challenge':
      return { kind: 'clearance', cookie: `SANDBOX_${digest(spec.pageurl).slice(0, 200)}`, userAgent: spec.userAgent ?? DEFAULT_USER_AGENT };
    case 'geetest': {
      const d = digest(spec.gt, spec.challenge);
      return { kind: 'geetest', challenge: spec.challenge, validate: d.slice(0, 32).toLowerCase(), seccode: `${d.slice(0, 32).toLowerCase()}|jordan` };
    }
    case 'bls':
      return { kind: 'cells', cells: blsCells(spec.instructions, spec.images) };
  }
}

/** A long deterministic string of letters and digits from the inputs. */
function digest(...parts: readonly string[]): string {
  let out = '';
  let seed = parts.join('\n');
  while (out.length < 512) {
    seed = createHash('sha256').update(seed).digest('base64url');
    out += seed.replace(/[-_]/g, '');
  }
  return out;
}

const DIGITS = '0123456789';
const LETTERS = 'abcdefghijkmnpqrstuvwxyz';

/** An answer shaped by the image hints, so that client developers see their hints arrive. */
function imageAnswer(spec: Extract<TaskSpec, { type: 'image' }>): string {
  const h = spec.hints;
  const bytes = createHash('sha256').update(spec.image).digest();
  if (h.calc) return String(bytes[0]! % 100);
  const alphabet = h.numeric === 1 ? DIGITS : h.numeric === 2 ? LETTERS : DIGITS + LETTERS;
  let length = 6;
  if (h.minLength > 0) length = Math.max(length, h.minLength);
  if (h.maxLength > 0) length = Math.min(length, h.maxLength);
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[bytes[i % bytes.length]! % alphabet.length];
  if (h.numeric === 4 && length >= 2) text = DIGITS[bytes[0]! % 10]! + LETTERS[bytes[1]! % LETTERS.length]! + text.slice(2);
  if (h.caseSensitive) text = text.slice(0, 1).toUpperCase() + text.slice(1);
  if (h.phrase && length >= 3) text = `${text.slice(0, Math.floor(length / 2))} ${text.slice(Math.floor(length / 2))}`;
  return text;
}

function blsCells(instructions: string, images: readonly Uint8Array[]): number[] {
  const hash = createHash('sha256').update(instructions);
  for (const image of images) hash.update(image);
  const bytes = hash.digest();
  const cells = [1, 2, 3, 4, 5, 6, 7, 8, 9].filter((_, i) => bytes[i]! % 3 === 0);
  return cells.length > 0 ? cells : [1 + (bytes[9]! % 9)];
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first; very long waits only end by abort. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = ms <= MAX_TIMER_MS ? setTimeout(done, ms) : undefined;
    function done(): void {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      if (timer) clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
