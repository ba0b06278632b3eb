/**
 * The sandbox solver: deterministic fake answers for every task type, the providers' published
 * test keys, and magic values that make every res.php outcome reachable on purpose, so that client
 * developers can test their error handling. docs/sandbox.md is generated from the tables here.
 */
import { SolverFailure, TASK_TYPES, type Solution, type SolveContext, type Solver, type Task, type TaskSpec } from '@solvebox/protocol';
import { sandboxAnswer } from './sandbox-answers.js';

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
  { name: 'answer', usage: 'sandbox=answer:TEXT', outcome: 'Image and text-question tasks: answers exactly TEXT (up to 64 letters, digits, `.`, `-`, `_`).' },
];

/** The providers' published test keys, answered as the providers document. */
export interface SandboxTestKey {
  readonly type: 'userrecaptcha' | 'turnstile' | 'hcaptcha';
  readonly sitekey: string;
  /** `token`: the sandbox's own token; `fixed-token`: exactly `token`; `block`: unsolvable; `interactive`: `token` after 5 s. */
  readonly behaviour: 'token' | 'fixed-token' | 'block' | 'interactive';
  readonly token?: string;
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
  {
    type: 'turnstile',
    sitekey: '1x00000000000000000000AA',
    behaviour: 'fixed-token',
    token: TURNSTILE_DUMMY_TOKEN,
    outcome: `\`${TURNSTILE_DUMMY_TOKEN}\` (always passes, visible).`,
  },
  {
    type: 'turnstile',
    sitekey: '1x00000000000000000000BB',
    behaviour: 'fixed-token',
    token: TURNSTILE_DUMMY_TOKEN,
    outcome: `\`${TURNSTILE_DUMMY_TOKEN}\` (always passes, invisible).`,
  },
  { type: 'turnstile', sitekey: '2x00000000000000000000AB', behaviour: 'block', outcome: 'ERROR_CAPTCHA_UNSOLVABLE (always blocks, visible).' },
  { type: 'turnstile', sitekey: '2x00000000000000000000BB', behaviour: 'block', outcome: 'ERROR_CAPTCHA_UNSOLVABLE (always blocks, invisible).' },
  {
    type: 'turnstile',
    sitekey: '3x00000000000000000000FF',
    behaviour: 'interactive',
    token: TURNSTILE_DUMMY_TOKEN,
    outcome: `Forces an interactive challenge: CAPCHA_NOT_READY for 5 s, then \`${TURNSTILE_DUMMY_TOKEN}\`.`,
  },
  ...[1, 2, 3].map(
    (n): SandboxTestKey => ({
      type: 'hcaptcha',
      sitekey: `${n}0000000-ffff-ffff-ffff-00000000000${n}`,
      behaviour: 'fixed-token',
      token: `${n}0000000-aaaa-bbbb-cccc-00000000000${n}`,
      outcome: `\`${n}0000000-aaaa-bbbb-cccc-00000000000${n}\`, as hCaptcha documents (${['publisher', 'enterprise safe end user', 'enterprise bot detected'][n - 1]} test key).`,
    }),
  ),
];

const DIRECTIVE = /(?:^|[?&\s])sandbox=([a-z-]+)(?::([A-Za-z0-9._-]{1,64}))?/;

interface Directive {
  readonly name: string;
  readonly arg?: string;
}

/**
 * Where a task carries its magic value: the pageurl's query for token tasks, the instructions
 * (or the question) otherwise. Audio has no text to carry one.
 */
function directiveCarrier(spec: TaskSpec): string | undefined {
  switch (spec.type) {
    case 'image':
      return spec.hints.instructions;
    case 'bls':
      return spec.instructions;
    case 'grid':
    case 'coordinates':
    case 'rotate':
      return spec.instructions;
    case 'textcaptcha':
      return spec.question;
    case 'audio':
      return undefined;
    default:
      return pageurlQuery(spec.pageurl);
  }
}

function directiveOf(spec: TaskSpec): Directive | undefined {
  const carrier = directiveCarrier(spec);
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
    const testKey = testKeyOf(task.spec)?.behaviour;
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
    const token = testKeyOf(task.spec)?.token;
    return sandboxAnswer(task.spec, {
      ...(directive?.name === 'answer' && directive.arg !== undefined ? { text: directive.arg } : {}),
      ...(token === undefined ? {} : { testToken: token }),
    });
  }
}

/** The provider test key the task names, if any. */
export function testKeyOf(spec: TaskSpec): SandboxTestKey | undefined {
  const sitekey = spec.type === 'userrecaptcha' ? spec.googlekey : spec.type === 'turnstile' || spec.type === 'hcaptcha' ? spec.sitekey : undefined;
  return sitekey === undefined ? undefined : SANDBOX_TEST_KEYS.find((k) => k.type === spec.type && k.sitekey === sitekey);
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
