/**
 * The sandbox's answers: deterministic, shaped as each method's real answers are (tokens with a
 * vendor's prefix, `|` where the vendor's tokens have one, JSON objects with the documented field
 * names, `click:` and `coordinates:` answers), so that client code parses them as it would the real ones.
 */
import { createHash } from 'node:crypto';
import type { PictureTask, Solution, TaskSpec, WidgetTask } from '@solvebox/protocol';

const DEFAULT_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export interface AnswerOptions {
  /** `sandbox=answer:TEXT`: the exact text to answer, for tasks answered in text. */
  readonly text?: string;
  /** A provider test key's documented token. */
  readonly testToken?: string;
}

export function sandboxAnswer(spec: TaskSpec, options: AnswerOptions = {}): Solution {
  const userAgent = 'userAgent' in spec && spec.userAgent ? { userAgent: spec.userAgent } : {};
  switch (spec.type) {
    case 'image':
      return { kind: 'text', text: options.text ?? imageAnswer(spec) };
    case 'userrecaptcha':
      return { kind: 'text', text: `03SANDBOX_${digest(spec.googlekey, spec.pageurl, spec.version, spec.action ?? '').slice(0, 400)}` };
    case 'turnstile':
      return { kind: 'text', text: options.testToken ?? `0.SANDBOX_${digest(spec.sitekey, spec.pageurl).slice(0, 300)}`, ...userAgent };
    case 'cloudflare_challenge':
      return { kind: 'clearance', cookie: `SANDBOX_${digest(spec.pageurl).slice(0, 200)}`, userAgent: spec.userAgent ?? DEFAULT_USER_AGENT };
    case 'geetest': {
      const d = digest(spec.gt, spec.challenge);
      return { kind: 'geetest', challenge: spec.challenge, validate: d.slice(0, 32).toLowerCase(), seccode: `${d.slice(0, 32).toLowerCase()}|jordan` };
    }
    case 'bls':
      return { kind: 'cells', cells: blsCells(spec.instructions, spec.images) };
    case 'grid':
      return { kind: 'text', text: gridAnswer(spec) };
    case 'coordinates':
      return { kind: 'points', points: points(spec) };
    case 'rotate': {
      const step = spec.angle ?? 40;
      return { kind: 'text', text: String((bytesOf(spec.image)[0]! % Math.max(1, Math.floor(360 / step))) * step) };
    }
    case 'textcaptcha':
      return { kind: 'text', text: options.text ?? wordFrom(digest(spec.question)) };
    case 'audio':
      return { kind: 'text', text: Array.from(bytesOf(spec.audio).subarray(0, 6), (b) => String(b % 10)).join('') };
    default:
      return widgetAnswer(spec, options.testToken);
  }
}

/** The widgets: a token in the vendor's shape, or the vendor's JSON object. */
function widgetAnswer(spec: WidgetTask, testToken: string | undefined): Solution {
  const d = digest(spec.type, spec.sitekey, spec.pageurl);
  const userAgent = typeof spec.params.userAgent === 'string' ? { userAgent: spec.params.userAgent } : {};
  switch (spec.type) {
    case 'hcaptcha':
      return { kind: 'text', text: testToken ?? `P1_SANDBOX_${d.slice(0, 300)}`, ...userAgent };
    case 'funcaptcha':
      return { kind: 'text', text: `${d.slice(0, 17)}.${d.slice(17, 27)}|r=eu-west-1|meta=3|pk=${spec.sitekey}|at=40|sup=1|rid=SANDBOX` };
    case 'keycaptcha':
      return { kind: 'text', text: `${d.slice(0, 32)}|${d.slice(32, 64)}|1` };
    case 'datadome':
      return {
        kind: 'text',
        text: `datadome=SANDBOX_${d.slice(0, 120)}; Max-Age=31536000; Domain=${hostOf(spec.pageurl)}; Path=/; Secure; SameSite=Lax`,
        ...userAgent,
      };
    case 'capy':
      return { kind: 'object', fields: { captchakey: spec.sitekey, challengekey: d.slice(0, 32), answer: d.slice(32, 64) } };
    case 'lemin':
      return { kind: 'object', fields: { answer: `0x${d.slice(0, 40)}`, challenge_id: d.slice(40, 76) } };
    case 'amazon_waf':
      return { kind: 'object', fields: { captcha_voucher: `SANDBOX.${d.slice(0, 200)}`, existing_token: `SANDBOX.${d.slice(200, 280)}` } };
    case 'tencent':
      return { kind: 'object', fields: { appid: spec.sitekey, ret: '0', ticket: `tr0SANDBOX${d.slice(0, 100)}`, randstr: `@${d.slice(100, 103)}` } };
    case 'geetest_v4':
      return {
        kind: 'object',
        fields: {
          captcha_id: spec.sitekey,
          lot_number: d.slice(0, 32).toLowerCase(),
          pass_token: d.slice(32, 96).toLowerCase(),
          gen_time: '1700000000',
          captcha_output: `SANDBOX_${d.slice(96, 200)}`,
        },
      };
    default:
      return { kind: 'text', text: `SANDBOX_${d.slice(0, 200)}`, ...userAgent };
  }
}

function hostOf(url: string): string {
  return new URL(url).hostname;
}

function bytesOf(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The grid cells to click: `click:3/6/8`, numbered from 1 left to right, top to bottom. */
function gridAnswer(spec: PictureTask): string {
  const bytes = bytesOf(spec.image);
  const cells = (spec.rows ?? 3) * (spec.columns ?? 3);
  const picked = Array.from({ length: cells }, (_, i) => i + 1).filter((_, i) => bytes[i % bytes.length]! % 3 === 0);
  if (picked.length === 0 && spec.canSkip) return 'No_matching_images';
  return `click:${(picked.length > 0 ? picked : [1 + (bytes[0]! % cells)]).join('/')}`;
}

/** One to three points inside a 200 × 100 box: the sandbox does not decode the image. */
function points(spec: PictureTask): { x: number; y: number }[] {
  const bytes = bytesOf(spec.image);
  return Array.from({ length: 1 + (bytes[0]! % 3) }, (_, i) => ({ x: 10 + (bytes[2 * i + 1]! % 190), y: 10 + (bytes[2 * i + 2]! % 90) }));
}

function wordFrom(d: string): string {
  return d
    .replace(/[^a-z]/g, '')
    .slice(0, 6)
    .padEnd(3, 'x');
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
