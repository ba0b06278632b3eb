/**
 * in.php: submit a task. Checks run in a fixed, documented order and the first problem answers:
 * ban, body readable, key format, key existence, request limits (2captcha dialect), parameters and
 * image bytes, image dimensions (image tasks) or a known-bad sitekey/pageurl pair (token tasks),
 * proxy, solver availability, balance (2captcha dialect), threads.
 */
import { codeReply, imagesOf, okReply, parseProxy, parseSubmission, sitekeyPair, isTokenTask, type Proxy, type Reply, type TaskSpec } from '@solvebox/protocol';
import { imageSize } from '../http/image-header.js';
import type { ProtocolRequest } from '../http/request.js';
import { pingbackUrlProblem } from '../solving/pingback.js';
import type { Services } from '../services.js';
import { formatMicros } from '../money.js';

/** A view of the decoded bytes, not a copy of them. */
function decodeBase64(b64: string): Uint8Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Ids are the storage's to make; random ones (Redis, memory) collide about once in 10^15 submits, and a few retries make that a non-event. */
const ID_ATTEMPTS = 3;

export async function submitTask(req: ProtocolRequest, ip: string, svc: Services): Promise<Reply> {
  const { config, storage, gate, dispatch, clock } = svc;
  if (await gate.isBanned(ip)) return codeReply('IP_BANNED');
  if (req.problem === 'too-large') return codeReply('ERROR_TOO_BIG_CAPTCHA_FILESIZE', `the request body is larger than ${config.bodyLimitBytes} bytes`);
  if (req.problem === 'unreadable') return codeReply('ERROR_UPLOAD', 'the request body could not be read');

  // Under the 2captcha dialect the balance gates submits, so it is read as stored now.
  const auth = await gate.authenticate(req.fields.get('key'), ip, { fresh: config.dialect === '2captcha' });
  if (!auth.ok) return codeReply(auth.code);
  const account = auth.account;
  if (svc.limits) {
    const limited = svc.limits.blocked(account.id, clock()) ?? svc.limits.record(account.id, 'submits', clock());
    if (limited) return codeReply(limited);
  }

  const parsed = parseSubmission(req, { limits: { minBytes: config.imageMinBytes, maxBytes: config.imageMaxBytes }, decodeBase64 });
  if (!parsed.ok) return codeReply(parsed.code, parsed.message);
  const { spec, pingback, softId, idempotencyKey } = parsed.submission;
  const pingbackProblem = pingback === undefined || !config.pingback ? undefined : pingbackUrlProblem(pingback, config.pingbackPrivate);
  if (pingbackProblem) return codeReply('ERROR_BAD_PARAMETERS', pingbackProblem);
  const imageProblem = checkDimensions(spec, config.imageMaxSide);
  if (imageProblem) return imageProblem;

  const now = clock();
  const pair = sitekeyPair(spec);
  if (pair && (await storage.isMarkedBad({ kind: 'pair', type: spec.type, ...pair }, now))) {
    return codeReply('ERROR_BAD_TOKEN_OR_PAGEURL', 'this sitekey/pageurl pair was reported invalid recently');
  }

  let proxy: Proxy | undefined;
  if (parsed.submission.proxy) {
    const checked = parseProxy(parsed.submission.proxy.proxy, parsed.submission.proxy.proxytype);
    if (!checked.ok) return codeReply(checked.code, checked.message);
    if (!account.proxiesAllowed) return codeReply('ERROR_BAD_PROXY', 'proxies are not enabled for this key');
    if (await storage.isMarkedBad({ kind: 'proxy', proxy: checked.proxy }, now)) {
      return codeReply('ERROR_BAD_PROXY', 'this proxy failed recently');
    }
    proxy = checked.proxy;
  }

  if (!dispatch.isAvailable(spec.type, now)) {
    return codeReply('ERROR_INTERNAL_SERVER_ERROR', 'the solver for this task type is failing; retry later');
  }

  if (config.dialect === '2captcha') {
    const price = config.pricesMicros[spec.type];
    if (price > 0 && account.balanceMicros < price) {
      const limited = svc.limits?.record(account.id, 'zeroBalance', now);
      return limited ? codeReply(limited) : codeReply('ERROR_ZERO_BALANCE', `the balance is below this task's price, ${formatMicros(price)}`);
    }
  }

  const deadlineAt = now + (isTokenTask(spec.type) ? config.tokenDeadlineMs : config.imageDeadlineMs);
  for (let attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
    const id = storage.newTaskId();
    const outcome = await storage.admitTask(
      {
        id,
        accountId: account.id,
        spec,
        ...(proxy ? { proxy } : {}),
        ...(pingback === undefined ? {} : { pingback }),
        ...(softId === undefined ? {} : { softId }),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        createdAt: now,
        deadlineAt,
      },
      account.threads,
      now,
    );
    if (outcome.kind === 'no-free-thread') {
      if (config.dialect === 'captchaai') return codeReply('ERROR_ZERO_BALANCE');
      const limited = svc.limits?.record(account.id, 'noSlot', now);
      return codeReply(limited ?? 'ERROR_NO_SLOT_AVAILABLE', limited ? undefined : "every thread of this key's plan is busy");
    }
    if (outcome.kind === 'replayed') return idReply(outcome.id, spec.type, config);
    if (outcome.kind === 'admitted') {
      dispatch.notify(spec.type);
      svc.metrics?.taskSubmitted(spec.type);
      return idReply(id, spec.type, config);
    }
  }
  return codeReply('ERROR_INTERNAL_SERVER_ERROR', 'could not allocate a task id');
}

/**
 * Reads the image headers (not the pixels): a header that cannot be read is not an image we
 * support, and a side over the limit is too big, which also stops decompression bombs, whose
 * few kilobytes claim millions of pixels.
 */
function checkDimensions(spec: TaskSpec, maxSide: number): Reply | undefined {
  for (const image of imagesOf(spec)) {
    const size = imageSize(image);
    if (!size) return codeReply('ERROR_IMAGE_TYPE_NOT_SUPPORTED', 'the image header cannot be read');
    if (size.width > maxSide || size.height > maxSide) {
      return codeReply('ERROR_TOO_BIG_CAPTCHA_FILESIZE', `the image is ${size.width}×${size.height} pixels; the maximum is ${maxSide} on a side`);
    }
  }
  return undefined;
}

/** CaptchaAI answers userrecaptcha submits with a JSON number, everything else with a string. */
function idReply(id: string, type: TaskSpec['type'], config: Services['config']): Reply {
  return okReply(config.jsonIds === 'captchaai' && type === 'userrecaptcha' ? Number(id) : id);
}
