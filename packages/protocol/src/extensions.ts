/**
 * Solvebox's additions to the protocol. Stock clients never send them and see no change; the
 * Solvebox client detects them from a response header, so it works against CaptchaAI and 2Captcha too.
 *
 * Long-poll: `res.php?action=get&id=..&wait=N` holds the request until the task ends or N seconds
 * pass (at most MAX_WAIT_SECONDS), then answers exactly as a plain `get`. Servers that support it
 * send LONG_POLL_HEADER, whose value is the longest wait they accept, on every in.php and res.php answer.
 *
 * Signed pingbacks: the POST to a task's `pingback` URL carries PINGBACK_SIGNATURE_HEADER,
 * `t=<unix seconds>,v1=<hex HMAC-SHA256>`, computed over `<t>.<the raw body>` with the account's
 * signing secret: the hex SHA-256 of its API key (pingbackSecret), which the server stores and the
 * account can compute. Uses Web Crypto, so it runs in Node and in browsers.
 */
export const WAIT_PARAM = 'wait';
export const MAX_WAIT_SECONDS = 30;
export const LONG_POLL_HEADER = 'solvebox-long-poll';
export const PINGBACK_SIGNATURE_HEADER = 'solvebox-signature';
/** Signatures older (or newer) than this are refused by verifyPingback: a replayed POST fails. */
export const PINGBACK_TOLERANCE_SECONDS = 300;

/** The `wait` parameter as milliseconds: 0 when absent or not a positive number; capped at the maximum. */
export function waitMillis(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const seconds = Number(raw.trim());
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.round(Math.min(seconds, MAX_WAIT_SECONDS) * 1000);
}

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The secret pingbacks of an account are signed with: the hex SHA-256 of its API key. */
export async function pingbackSecret(apiKey: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(apiKey)));
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
}

/** The signature header's value for `body` sent at `unixSeconds`. */
export async function signPingback(secret: string, body: string, unixSeconds: number): Promise<string> {
  const t = Math.floor(unixSeconds);
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

/**
 * Whether a pingback is genuine: its signature header matches the raw body under the account's
 * API key, and was made within PINGBACK_TOLERANCE_SECONDS of `nowSeconds`.
 */
export async function verifyPingback(
  apiKey: string,
  body: string,
  signatureHeader: string | null | undefined,
  nowSeconds = Date.now() / 1000,
): Promise<boolean> {
  if (!signatureHeader) return false;
  const parts = new Map(signatureHeader.split(',').map((part) => [part.slice(0, part.indexOf('=')).trim(), part.slice(part.indexOf('=') + 1).trim()]));
  const t = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(t) || given === undefined || Math.abs(nowSeconds - t) > PINGBACK_TOLERANCE_SECONDS) return false;
  const expected = await hmacHex(await pingbackSecret(apiKey), `${t}.${body}`);
  // Compared in full whatever the first difference, so that timing tells an attacker nothing.
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}
