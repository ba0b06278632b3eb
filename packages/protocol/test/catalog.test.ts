/** The error catalog is complete and consistent, and the codes the issue tracker names are all there. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CATALOG, catalogEntry, isKnownCode, type CatalogEntry } from '../src/index.js';

const entries = Object.entries(ERROR_CATALOG) as [string, CatalogEntry][];

test('every code the CaptchaAI error page documents is served', () => {
  const captchaai = [
    'ERROR_WRONG_USER_KEY',
    'ERROR_KEY_DOES_NOT_EXIST',
    'ERROR_ZERO_BALANCE',
    'ERROR_PAGEURL',
    'ERROR_WRONG_GOOGLEKEY',
    'ERROR_GOOGLEKEY',
    'ERROR_BAD_TOKEN_OR_PAGEURL',
    'ERROR_TOO_BIG_CAPTCHA_FILESIZE',
    'ERROR_ZERO_CAPTCHA_FILESIZE',
    'ERROR_WRONG_FILE_EXTENSION',
    'ERROR_IMAGE_TYPE_NOT_SUPPORTED',
    'ERROR_UPLOAD',
    'ERROR_BAD_PROXY',
    'ERROR_BAD_PARAMETERS',
    'IP_BANNED',
    'ERROR_SERVER_ERROR',
    'ERROR_INTERNAL_SERVER_ERROR',
    'CAPCHA_NOT_READY',
    'ERROR_CAPTCHA_UNSOLVABLE',
    'ERROR_WRONG_ID_FORMAT',
    'ERROR_WRONG_CAPTCHA_ID',
    'ERROR_EMPTY_ACTION',
    'ERROR_PROXY_CONNECTION_FAILED',
    'ERROR_DUPLICATE_REPORT',
    'ERROR_REPORT_NOT_RECORDED',
  ];
  for (const code of captchaai) assert.equal(catalogEntry(code)?.served, true, code);
});

test('every entry is complete: endpoints, texts, and a delay where the class needs one', () => {
  for (const [code, e] of entries) {
    assert.ok(e.endpoints.length > 0, code);
    for (const text of [e.description, e.cause, e.fix]) assert.ok(text.length > 10 && !text.includes('TODO'), `${code}: ${text}`);
    if (e.retry === 'retry-later' || e.retry === 'not-ready' || e.retry === 'wait-for-thread') assert.ok((e.delayMs ?? 0) > 0, `${code} needs a delay`);
    else assert.equal(e.delayMs, undefined, `${code}: a delay means nothing for ${e.retry}`);
  }
});

test('the retry class of each code (the one table the client policy follows)', () => {
  const expected: Record<string, CatalogEntry['retry']> = {
    ERROR_WRONG_USER_KEY: 'fix-request',
    ERROR_KEY_DOES_NOT_EXIST: 'fix-request',
    ERROR_ZERO_BALANCE: 'wait-for-thread',
    IP_BANNED: 'retry-later',
    ERROR_GOOGLEKEY: 'fix-request',
    ERROR_UPLOAD: 'fix-request',
    ERROR_SERVER_ERROR: 'retry-later',
    ERROR_INTERNAL_SERVER_ERROR: 'retry-later',
    CAPCHA_NOT_READY: 'not-ready',
    CAPTCHA_NOT_READY: 'not-ready',
    ERROR_CAPTCHA_UNSOLVABLE: 'task-failed',
    ERROR_PROXY_CONNECTION_FAILED: 'task-failed',
    ERROR_NO_SLOT_AVAILABLE: 'retry-later',
    'ERROR: 1004': 'retry-later',
  };
  for (const [code, retry] of Object.entries(expected)) assert.equal(catalogEntry(code)?.retry, retry, code);
});

test('unknown codes are not in the catalog; lookups do not see Object.prototype', () => {
  assert.equal(isKnownCode('ERROR_SOMETHING_NEW'), false);
  assert.equal(isKnownCode('toString'), false);
  assert.equal(isKnownCode('__proto__'), false);
  assert.equal(catalogEntry('constructor'), undefined);
});
