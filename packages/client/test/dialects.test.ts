/** The answer dialects of the services, decoded the same way; and the catalog-driven error classes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CATALOG, parseAnswer, type CatalogEntry } from '@solvebox/protocol';
import { FixRequestError, RetryLaterError, TaskFailedError, UnknownCodeError, WaitForThreadError, errorClassFor, errorForCode } from '@solvebox/client';
import { decodeAnswer } from '@solvebox/client';

test('every catalog code maps to the error class of its retry class', () => {
  const expected: Record<CatalogEntry['retry'], unknown> = {
    'fix-request': FixRequestError,
    'retry-later': RetryLaterError,
    'wait-for-thread': WaitForThreadError,
    'task-failed': TaskFailedError,
    'not-ready': undefined,
  };
  for (const [code, entry] of Object.entries(ERROR_CATALOG) as [string, CatalogEntry][]) {
    assert.equal(errorClassFor(code), expected[entry.retry], code);
  }
  assert.equal(errorClassFor('ERROR_SOMETHING_NEW'), UnknownCodeError);
});

test('unknown codes are kept verbatim', () => {
  const err = errorForCode('ERROR_BRAND_NEW', { elapsedMs: 12, endpoint: 'res.php', taskId: '42' });
  assert.ok(err instanceof UnknownCodeError);
  assert.equal(err.code, 'ERROR_BRAND_NEW');
  assert.equal(err.taskId, '42');
  assert.equal(err.elapsedMs, 12);
  assert.deepEqual(parseAnswer('ERROR_BRAND_NEW'), { kind: 'code', code: 'ERROR_BRAND_NEW' });
});

test('errors carry the catalog fix text', () => {
  const err = errorForCode('ERROR_WRONG_USER_KEY', { elapsedMs: 1, endpoint: 'in.php' });
  assert.equal(err.fix, ERROR_CATALOG.ERROR_WRONG_USER_KEY.fix);
  assert.equal(err.kind, 'fix-request');
  assert.match(err.message, /^ERROR_WRONG_USER_KEY \(in\.php\): /);
});

test('ids as integers or strings', () => {
  assert.deepEqual(parseAnswer('{"status":1,"request":3397637370}'), { kind: 'ok', value: 3397637370, extra: {} });
  assert.deepEqual(parseAnswer('{"status":"1","request":"3397637370"}'), { kind: 'ok', value: '3397637370', extra: {} });
  assert.deepEqual(parseAnswer('OK|3397637370'), { kind: 'ok', value: '3397637370', extra: {} });
});

test('OK| answers that contain |', () => {
  assert.deepEqual(parseAnswer('OK|a|b|c'), { kind: 'ok', value: 'a|b|c', extra: {} });
});

test('CAPCHA_NOT_READY and CAPTCHA_NOT_READY are both not-ready', () => {
  for (const body of ['CAPCHA_NOT_READY', 'CAPTCHA_NOT_READY', '{"status":0,"request":"CAPTCHA_NOT_READY"}']) {
    const parsed = parseAnswer(body);
    assert.equal(parsed.kind, 'code', body);
    assert.equal(errorClassFor(parsed.kind === 'code' ? parsed.code : ''), undefined, body);
  }
});

test('REPORT_NOT_RECORDED in both spellings is a fix-request error', () => {
  assert.ok(errorForCode('REPORT_NOT_RECORDED', { elapsedMs: 0 }) instanceof FixRequestError);
  assert.ok(errorForCode('ERROR_REPORT_NOT_RECORDED', { elapsedMs: 0 }) instanceof FixRequestError);
});

test('user_agent or useragent', () => {
  assert.deepEqual(decodeAnswer('cloudflareChallenge', 'cf', { user_agent: 'A' }), { token: 'cf', userAgent: 'A' });
  assert.deepEqual(decodeAnswer('cloudflareChallenge', 'cf', { useragent: 'B' }), { token: 'cf', userAgent: 'B' });
  assert.deepEqual(
    decodeAnswer('cloudflareChallenge', 'cf', {}, { type: 'cloudflareChallenge', pageurl: 'x', proxy: { type: 'HTTP', address: 'h:1' }, userAgent: 'C' }),
    { token: 'cf', userAgent: 'C' },
  );
});

test('a GeeTest answer as an object or as a JSON string, with or without geetest_ keys', () => {
  const expected = { challenge: 'c', validate: 'v', seccode: 's' };
  assert.deepEqual(decodeAnswer('geetest', { geetest_challenge: 'c', geetest_validate: 'v', geetest_seccode: 's' }, {}), expected);
  assert.deepEqual(decodeAnswer('geetest', '{"geetest_challenge":"c","geetest_validate":"v","geetest_seccode":"s"}', {}), expected);
  assert.deepEqual(decodeAnswer('geetest', { challenge: 'c', validate: 'v', seccode: 's' }, {}), expected);
  assert.throws(() => decodeAnswer('geetest', 'not json', {}), /not JSON/);
});

test('BLS cells as [1, 4, 7] or 1,4,7', () => {
  assert.deepEqual(decodeAnswer('bls', '[1, 4, 7, 8]', {}), [1, 4, 7, 8]);
  assert.deepEqual(decodeAnswer('bls', '1,3,5', {}), [1, 3, 5]);
  assert.throws(() => decodeAnswer('bls', '[0, 10]', {}), /not a list of cells/);
});

test('codes written as ERROR: 1004 or ERROR:1004; bare balances; garbage', () => {
  assert.deepEqual(parseAnswer('ERROR:1004'), { kind: 'code', code: 'ERROR: 1004' });
  assert.deepEqual(parseAnswer('17.87942'), { kind: 'value', value: '17.87942' });
  assert.deepEqual(parseAnswer('{"status":1,"request":"12.345"}'), { kind: 'ok', value: '12.345', extra: {} });
  assert.equal(parseAnswer('').kind, 'garbled');
  assert.equal(parseAnswer('<html>502</html>').kind, 'garbled');
  assert.equal(parseAnswer('{"status":1').kind, 'garbled');
  assert.deepEqual(parseAnswer('{"status":0,"request":"ERROR_ZERO_BALANCE","error_text":"no threads"}'), {
    kind: 'code',
    code: 'ERROR_ZERO_BALANCE',
    errorText: 'no threads',
  });
});
