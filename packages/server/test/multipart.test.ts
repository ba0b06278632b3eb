/**
 * The plain multipart reader (src/http/multipart.ts) against busboy, the parser of record: on
 * thousands of generated bodies, the usual shapes of client libraries, then odd ones (preambles,
 * paths in filenames, charsets, folded and non-ASCII headers, delimiters inside data, missing
 * closings) and random byte damage, the plain reader either declines or reads exactly what busboy
 * reads. It must also accept the plain shapes, or the fast path would be busboy after all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlainMultipart, parseWithBusboy, plainBoundary } from '../src/http/multipart.js';
import type { ParsedBody } from '../src/http/body.js';
import { prng } from '../src/testing/raw-fuzz.js';

const LIMITS = { bodyBytes: 1 << 20, fileBytes: 48 };

type Random = () => number;
const pick = <T>(rnd: Random, items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
const chance = (rnd: Random, p: number): boolean => rnd() < p;

function randomBytes(rnd: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(rnd() * 256);
  return bytes;
}

/** A Content-Type header for `boundary`: mostly as clients write it, sometimes not. */
function contentType(rnd: Random, boundary: string): string {
  if (chance(rnd, 0.7)) return `multipart/form-data; boundary=${/^[A-Za-z0-9.+-]+$/.test(boundary) ? boundary : `"${boundary}"`}`;
  return pick(rnd, [
    `multipart/form-data; boundary=${boundary}`,
    `multipart/form-data; boundary="${boundary}"`,
    `multipart/form-data;boundary=${boundary}`,
    `Multipart/Form-Data; BOUNDARY=${boundary}`,
    `multipart/form-data; boundary=${boundary}; charset=utf-8`,
    `multipart/form-data; charset=utf-8; boundary=${boundary}`,
    `multipart/form-data; boundary=${boundary}  `,
    `multipart/form-data; boundary="${boundary.replace(/-/g, '\\-')}"`,
  ]);
}

/** One part: headers as client libraries write them, now and then something else. */
function part(rnd: Random, index: number, boundary: string): Buffer {
  const name = chance(rnd, 0.95) ? pick(rnd, ['key', 'method', 'file', 'body', 'json', `f${index}`]) : pick(rnd, ['', 'a b', 'na"me', 'ключ', 'x\\y']);
  const quotedName = /^[A-Za-z0-9_-]+$/.test(name) && chance(rnd, 0.2) ? `name=${name}` : `name="${name}"`;
  const isFile = chance(rnd, 0.4);
  let disposition = `form-data; ${quotedName}`;
  if (isFile) {
    const filename = chance(rnd, 0.9)
      ? pick(rnd, ['captcha.png', 'image.jpg', 'blob'])
      : pick(rnd, ['', '.', '..', 'dir/x.png', 'c:\\x\\y.png', 'é.png', 'a"b.png', 'a\\"b.png']);
    disposition += chance(rnd, 0.95) ? `; filename="${filename}"` : `; filename*=utf-8''${encodeURIComponent(filename)}`;
  }
  if (chance(rnd, 0.05))
    disposition = pick(rnd, [
      `attachment; ${quotedName}`,
      `form-data;${quotedName} `,
      `form-data; ${quotedName}; size=3`,
      `FORM-DATA; NAME="${name}"`,
      'form-data',
    ]);
  const headers: string[] = [`${pick(rnd, ['Content-Disposition', 'content-disposition', 'CONTENT-DISPOSITION'])}: ${disposition}`];
  if (isFile && chance(rnd, 0.8)) headers.push(`Content-Type: ${pick(rnd, ['image/png', 'application/octet-stream', 'image/jpeg; charset=binary'])}`);
  if (!isFile && chance(rnd, 0.05)) headers.push(`Content-Type: ${pick(rnd, ['text/plain', 'text/plain; charset=latin1', 'application/octet-stream'])}`);
  if (chance(rnd, 0.05))
    headers.push(pick(rnd, ['Content-Length: 3', 'Content-Transfer-Encoding: binary', 'X-Extra: 1', 'Content-Disposition: form-data; name="twice"']));
  if (chance(rnd, 0.03)) headers.push(' folded-continuation');
  if (chance(rnd, 0.5)) headers.reverse();
  let data: Buffer;
  if (isFile) data = randomBytes(rnd, pick(rnd, [0, 10, 48, 49, 60]));
  else if (chance(rnd, 0.1))
    data = randomBytes(rnd, 8); // not UTF-8, mostly
  else data = Buffer.from(pick(rnd, ['abc', '', 'post', '1', 'é ü', `--${boundary}`, `--${boundary}--`, '\r\n', 'x\r\n--']));
  return Buffer.concat([Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'utf8'), data]);
}

function body(rnd: Random, boundary: string): Buffer {
  const chunks: Buffer[] = [];
  if (chance(rnd, 0.05)) chunks.push(Buffer.from(pick(rnd, ['preamble\r\n', '\r\n', ' '])));
  const count = chance(rnd, 0.03) ? 25 : Math.floor(rnd() * 5);
  for (let i = 0; i < count; i++) {
    chunks.push(Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\n`));
    chunks.push(part(rnd, i, boundary));
  }
  const closing = chance(rnd, 0.8)
    ? `--${boundary}--\r\n`
    : pick(rnd, [`--${boundary}--`, `--${boundary}--\r\n`, `--${boundary}--\r\nepilogue`, `--${boundary}`, `--${boundary}-x`, '', `--${boundary}  \r\n`]);
  chunks.push(Buffer.from(`${count === 0 ? '' : '\r\n'}${closing}`));
  let bytes = Buffer.concat(chunks);
  // Byte damage: a byte changed, a byte dropped, or the body cut short.
  if (chance(rnd, 0.15) && bytes.length > 0) {
    const at = Math.floor(rnd() * bytes.length);
    const roll = rnd();
    if (roll < 0.4) bytes[at] = Math.floor(rnd() * 256);
    else if (roll < 0.7) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    else bytes = bytes.subarray(0, at);
  }
  return bytes;
}

/** A reading as plain data, for deepEqual: fields and files by name, files as filename and hex. */
function shape(parts: ParsedBody): unknown {
  return {
    problem: parts.problem,
    fields: [...parts.fields].sort(),
    files: [...parts.files].map(([name, file]) => [name, file.filename, Buffer.from(file.data).toString('hex')]).sort(),
  };
}

test('the plain multipart reader reads what busboy reads, or declines', async () => {
  const rnd = prng(0x6d756c74);
  let accepted = 0;
  let declined = 0;
  const ROUNDS = 10_000;
  for (let round = 0; round < ROUNDS; round++) {
    const boundary = pick(rnd, [
      'XyZ',
      '----WebKitFormBoundary7MA4YWxkTrZu0gW',
      '--------------------------123456789012345678901234',
      'a.b+c',
      'b',
      'with space',
    ]);
    const type = contentType(rnd, boundary);
    const bytes = body(rnd, boundary);
    const headers = { 'content-type': type };
    const plainType = plainBoundary(type);
    const plain = plainType === undefined ? undefined : parsePlainMultipart(bytes, plainType, LIMITS);
    const reference = parseWithBusboy(headers, bytes, LIMITS);
    if (plain === undefined) {
      declined++;
      continue;
    }
    accepted++;
    assert.ok(reference, `busboy refused a type the plain reader took: ${type}`);
    assert.deepEqual(shape(plain), shape(await reference), `round ${round}, ${type}, body ${JSON.stringify(bytes.toString('latin1'))}`);
  }
  // The plain shapes are most of what clients send, so most generated bodies are read here.
  assert.ok(accepted > ROUNDS * 0.3, `only ${accepted} of ${ROUNDS} bodies read without busboy`);
  assert.ok(declined > ROUNDS * 0.2, `only ${declined} of ${ROUNDS} bodies declined: the generator lost its odd cases`);
});

test('the shapes client libraries write are read without busboy', () => {
  const file = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x2d, 0x2d]);
  const bodies: Array<[string, string, Buffer]> = [
    // undici's FormData (Node's fetch)
    [
      'undici',
      'multipart/form-data; boundary=----formdata-undici-0123456789',
      Buffer.concat([
        Buffer.from('------formdata-undici-0123456789\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc\r\n'),
        Buffer.from(
          '------formdata-undici-0123456789\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n',
        ),
        file,
        Buffer.from('\r\n------formdata-undici-0123456789--'),
      ]),
    ],
    // curl -F, Python requests
    [
      'curl',
      'multipart/form-data; boundary=------------------------d74496d66958873e',
      Buffer.concat([
        Buffer.from('--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name="method"\r\n\r\npost\r\n'),
        Buffer.from(
          '--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name="file"; filename="captcha.png"\r\nContent-Type: image/png\r\n\r\n',
        ),
        file,
        Buffer.from('\r\n--------------------------d74496d66958873e--\r\n'),
      ]),
    ],
    // OkHttp: a Content-Length per part
    [
      'okhttp',
      'multipart/form-data; boundary=3f1a',
      Buffer.concat([
        Buffer.from('--3f1a\r\nContent-Disposition: form-data; name="file"; filename="c.png"\r\nContent-Type: image/png\r\nContent-Length: 10\r\n\r\n'),
        file,
        Buffer.from('\r\n--3f1a--\r\n'),
      ]),
    ],
  ];
  for (const [client, type, bytes] of bodies) {
    const plain = parsePlainMultipart(bytes, plainBoundary(type)!, LIMITS);
    assert.ok(plain, `${client}'s body was declined`);
    assert.deepEqual(Buffer.from(plain.files.get('file')!.data), file, client);
  }
});
