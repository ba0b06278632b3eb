/** Parameter validation, image checks and proxy parsing as pure functions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_IMAGE_LIMITS,
  checkImage,
  decodeImageBase64,
  parseProxy,
  parseSubmission,
  sniffImageFormat,
  type RequestParams,
  type UploadedFile,
} from '../src/index.js';

const png = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size).fill(7);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return bytes;
};
const b64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const request = (fields: Record<string, string>, files: Record<string, UploadedFile> = {}): RequestParams => ({
  fields: new Map(Object.entries(fields)),
  files: new Map(Object.entries(files)),
});
const parse = (fields: Record<string, string>, files?: Record<string, UploadedFile>) =>
  parseSubmission(request(fields, files), { limits: DEFAULT_IMAGE_LIMITS });

test('base64: tolerated forms decode to the same bytes; invalid text does not decode', () => {
  const bytes = png(300);
  const clean = b64(bytes);
  for (const variant of [
    clean,
    `data:image/png;base64,${clean}`,
    clean.replace(/(.{60})/g, '$1\n'),
    clean.replace(/\+/g, ' '),
    clean.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    `  ${clean}  `,
  ]) {
    assert.deepEqual(decodeImageBase64(variant), bytes, variant.slice(0, 40));
  }
  for (const bad of ['abc$', 'QUJDR', '====', 'data:image/png;base64,@@@']) assert.equal(decodeImageBase64(bad), undefined, bad);
});

test('image sniffing by magic bytes', () => {
  assert.equal(sniffImageFormat(png(10)), 'png');
  assert.equal(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xdb])), 'jpeg');
  assert.equal(sniffImageFormat(new TextEncoder().encode('GIF87a....')), 'gif');
  assert.equal(sniffImageFormat(new TextEncoder().encode('BM......')), undefined);
  assert.equal(sniffImageFormat(new Uint8Array(0)), undefined);
});

test('image checks in order: size floor, size ceiling, extension, type', () => {
  const limits = { minBytes: 100, maxBytes: 1000 };
  const code = (bytes: Uint8Array, name?: string) => {
    const r = checkImage(bytes, limits, name);
    return r.ok ? r.format : r.code;
  };
  assert.equal(code(png(99), 'x.bmp'), 'ERROR_ZERO_CAPTCHA_FILESIZE');
  assert.equal(code(png(1001), 'x.bmp'), 'ERROR_TOO_BIG_CAPTCHA_FILESIZE');
  assert.equal(code(png(500), 'x.bmp'), 'ERROR_WRONG_FILE_EXTENSION');
  assert.equal(code(new Uint8Array(500), 'x.png'), 'ERROR_IMAGE_TYPE_NOT_SUPPORTED');
  assert.equal(code(png(100), 'X.PNG'), 'png');
  assert.equal(code(png(1000)), 'png');
});

test('proxies: accepted forms, and what is refused', () => {
  assert.deepEqual(parseProxy('1.2.3.4:8080', 'http'), { ok: true, proxy: { type: 'HTTP', host: '1.2.3.4', port: 8080 } });
  assert.deepEqual(parseProxy('user:pa:ss@proxy.example.com:1080', 'SOCKS5'), {
    ok: true,
    proxy: { type: 'SOCKS5', host: 'proxy.example.com', port: 1080, login: 'user', password: 'pa:ss' },
  });
  assert.equal(parseProxy('[2001:db8::1]:3128', 'HTTPS').ok, true);
  for (const [proxy, type] of [
    ['1.2.3.4', 'HTTP'],
    ['1.2.3.4:0', 'HTTP'],
    ['1.2.3.4:65536', 'HTTP'],
    [':80', 'HTTP'],
    ['a b:80', 'HTTP'],
    ['u@h:80', 'HTTP'],
    ['h:80', 'FTP'],
  ] as const) {
    const result = parseProxy(proxy, type);
    assert.equal(result.ok ? 'ok' : result.code, 'ERROR_BAD_PROXY', `${proxy} ${type}`);
  }
});

test('submissions: each method builds its task; hints and options are carried', () => {
  const image = parse({
    method: 'base64',
    body: b64(png(200)),
    numeric: '4',
    min_len: '4',
    max_len: '6',
    regsense: '1',
    lang: 'EN',
    textinstructions: 'red letters',
  });
  assert.ok(image.ok);
  assert.equal(image.submission.spec.type, 'image');
  if (image.submission.spec.type === 'image') {
    assert.deepEqual(image.submission.spec.hints, {
      phrase: false,
      caseSensitive: true,
      numeric: 4,
      calc: false,
      minLength: 4,
      maxLength: 6,
      language: 0,
      lang: 'en',
      instructions: 'red letters',
    });
    assert.equal(image.submission.spec.format, 'png');
  }
  const upload = parse({ method: 'post' }, { file: { filename: 'c.png', data: png(200) } });
  assert.ok(upload.ok);

  const recaptcha = parse({
    method: 'userrecaptcha',
    googlekey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI',
    pageurl: 'https://a.example/x',
    version: 'v3',
    min_score: '0.7',
    action: 'login',
    proxy: '1.2.3.4:80',
    proxytype: 'HTTP',
    pingback: 'https://cb.example/',
    soft_id: '4580',
  });
  assert.ok(recaptcha.ok);
  assert.deepEqual(recaptcha.submission, {
    spec: {
      type: 'userrecaptcha',
      googlekey: '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI',
      pageurl: 'https://a.example/x',
      version: 'v3',
      enterprise: false,
      invisible: false,
      minScore: 0.7,
      action: 'login',
    },
    proxy: { proxy: '1.2.3.4:80', proxytype: 'HTTP' },
    pingback: 'https://cb.example/',
    softId: 4580,
  });

  const bls = parse({
    method: 'bls',
    instructions: '664',
    ...Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`image_base64_${i + 1}`, b64(png(150))])),
  });
  assert.ok(bls.ok);
  assert.equal(bls.submission.spec.type === 'bls' && bls.submission.spec.images.length, 9);
});

test("submissions: the first problem answers, with the method's own code", () => {
  const code = (fields: Record<string, string>) => {
    const r = parse(fields);
    return r.ok ? 'ok' : r.code;
  };
  assert.equal(code({}), 'ERROR_BAD_PARAMETERS');
  assert.equal(code({ method: 'userrecaptcha', pingback: 'bad' }), 'ERROR_WRONG_GOOGLEKEY', 'own parameters before common ones');
  assert.equal(code({ method: 'userrecaptcha', googlekey: ' ', pageurl: 'https://a.example' }), 'ERROR_GOOGLEKEY');
  assert.equal(code({ method: 'turnstile', sitekey: 'k', pageurl: 'https://a.example', min_len: 'x' }), 'ok', 'parameters of other methods are ignored');
  assert.equal(code({ method: 'base64', body: b64(png(200)), min_len: '21' }), 'ERROR_BAD_PARAMETERS');
  assert.equal(code({ method: 'base64', body: b64(png(50)), min_len: '21' }), 'ERROR_BAD_PARAMETERS', 'parameters before the image');
  assert.equal(code({ method: 'base64', body: b64(png(50)) }), 'ERROR_ZERO_CAPTCHA_FILESIZE');
  assert.equal(code({ method: 'bls', textinstructions: '664', body: b64(png(150)) }), 'ok', 'the body/textinstructions alias');
});
