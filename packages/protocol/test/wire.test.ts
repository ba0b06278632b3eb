/** Answer encoding: both forms of every kind of answer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeReply, okReply, renderReply, solutionReply, solutionText, valueReply } from '../src/index.js';

const both = (reply: ReturnType<typeof okReply>) => [renderReply(reply, false).body, renderReply(reply, true).body];

test('OK answers, bare values and codes', () => {
  assert.deepEqual(both(okReply('2122988149')), ['OK|2122988149', '{"status":1,"request":"2122988149"}']);
  assert.deepEqual(both(okReply(3397637370)), ['OK|3397637370', '{"status":1,"request":3397637370}']);
  assert.deepEqual(both(valueReply('17.87942')), ['17.87942', '{"status":1,"request":"17.87942"}']);
  assert.deepEqual(both(codeReply('CAPCHA_NOT_READY')), ['CAPCHA_NOT_READY', '{"status":0,"request":"CAPCHA_NOT_READY"}']);
  assert.equal(
    renderReply(codeReply('ERROR_WRONG_USER_KEY'), true).body,
    '{"status":0,"request":"ERROR_WRONG_USER_KEY","error_text":"You\'ve provided key parameter value in incorrect format, it should contain 32 symbols."}',
  );
  assert.equal(
    renderReply(codeReply('ERROR_BAD_PARAMETERS', '`x` is required'), true).body,
    '{"status":0,"request":"ERROR_BAD_PARAMETERS","error_text":"`x` is required"}',
  );
  assert.equal(renderReply(okReply('a'), false).contentType, 'text/plain; charset=utf-8');
  assert.equal(renderReply(okReply('a'), true).contentType, 'application/json; charset=utf-8');
});

test('solutions: text (with |), user agents, GeeTest objects, BLS cells, prices', () => {
  assert.deepEqual(both(solutionReply({ kind: 'text', text: 'a|b' })), ['OK|a|b', '{"status":1,"request":"a|b"}']);
  assert.deepEqual(both(solutionReply({ kind: 'text', text: 'tok' }, '0.0012')), ['OK|tok|0.0012', '{"status":1,"request":"tok","price":"0.0012"}']);
  assert.deepEqual(both(solutionReply({ kind: 'clearance', cookie: 'cf', userAgent: 'UA' })), [
    'OK|cf',
    '{"status":1,"request":"cf","useragent":"UA","user_agent":"UA"}',
  ]);
  assert.deepEqual(both(solutionReply({ kind: 'cells', cells: [1, 4, 7, 8] })), ['OK|[1, 4, 7, 8]', '{"status":1,"request":"[1, 4, 7, 8]"}']);
  const geetest = solutionReply({ kind: 'geetest', challenge: 'c', validate: 'v', seccode: 's' });
  const json = '{"status":1,"request":{"geetest_challenge":"c","geetest_validate":"v","geetest_seccode":"s"}}';
  assert.deepEqual(both(geetest), [json, json], 'GeeTest answers are JSON whatever json= says');
  assert.equal(
    solutionText({ kind: 'geetest', challenge: 'c', validate: 'v', seccode: 's' }),
    '{"geetest_challenge":"c","geetest_validate":"v","geetest_seccode":"s"}',
  );
});
