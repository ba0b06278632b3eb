/**
 * Pingback SSRF: which addresses count as public. IPv6 forms that embed an IPv4 address are judged
 * by that address, at submit (the URL) and at delivery (every address a host resolves to), so that
 * `[::127.0.0.1]`, NAT64 and 6to4 spellings of loopback are never dialled.
 */
import { createServer } from 'node:http';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deliverPingback, pingbackUrlProblem } from '../src/solving/pingback.js';
import { isPublicAddress } from '../src/solving/public-address.js';

const PRIVATE = [
  // IPv4 special-purpose ranges that are not globally reachable
  '0.0.0.0',
  '10.1.2.3',
  '100.64.0.1',
  '127.0.0.1',
  '169.254.169.254',
  '172.16.0.1',
  '192.0.0.9',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.1.1',
  '198.18.0.1',
  '198.51.100.1',
  '203.0.113.1',
  '224.0.0.1',
  '240.0.0.1',
  '255.255.255.255',
  // IPv6 ranges that are not globally reachable
  '::',
  '::1',
  'fe80::1',
  'fe80::1%eth0',
  'fc00::1',
  'fd00::1',
  'ff02::1',
  '100::1',
  '2001:db8::1',
  '2001:2::1',
  '3fff::1',
  '5f00::1',
  'fec0::1',
  // IPv4 embedded in IPv6: judged as the IPv4 address
  '::127.0.0.1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:0:7f00:1',
  '::10.0.0.1',
  '64:ff9b::127.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b:1::808:808', // the local-use NAT64 prefix is refused whatever it embeds
  '2002:7f00:1::',
  '2002:a00:1::1',
  '2002:c0a8:101::',
  '2001:0:7f00:1::', // Teredo with a loopback server
  '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo whose client (bits flipped) is 192.0.2.45
  // not addresses at all
  'example.com',
  '',
  '1.2.3',
  '::g',
];
const PUBLIC = [
  '8.8.8.8',
  '1.1.1.1',
  '192.0.43.10',
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '::ffff:8.8.8.8',
  '64:ff9b::8.8.8.8',
  '2002:808:808::1',
  '2001:0:808:808::f7f7:f7f7',
  '2001:4:112::1',
];

describe('public addresses', () => {
  test('IANA special-purpose ranges and IPv4 embedded in IPv6 are not public', () => {
    for (const address of PRIVATE) assert.equal(isPublicAddress(address), false, address);
  });

  test('globally reachable addresses are public, also when embedded in IPv6', () => {
    for (const address of PUBLIC) assert.equal(isPublicAddress(address), true, address);
  });

  test('the submit check refuses every embedded-IPv4 form of a private address', () => {
    for (const host of [
      '[::127.0.0.1]',
      '[64:ff9b::127.0.0.1]',
      '[2002:7f00:1::]',
      '[::ffff:7f00:1]',
      '[::ffff:0:7f00:1]',
      '[64:ff9b:1::808:808]',
      '[2001:0:4136:e378:8000:63bf:3fff:fdd2]',
    ]) {
      assert.match(pingbackUrlProblem(`http://${host}:8080/hook`, false) ?? '', /private address/, host);
      assert.equal(pingbackUrlProblem(`http://${host}:8080/hook`, true), undefined, `${host} with --pingback-private 1`);
    }
    assert.equal(pingbackUrlProblem('http://[64:ff9b::8.8.8.8]/hook', false), undefined);
  });

  test('delivery never dials an embedded-IPv4 form of loopback', async () => {
    let hits = 0;
    const receiver = createServer((_req, res) => {
      hits++;
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '::', resolve));
    const port = (receiver.address() as { port: number }).port;
    const warnings: { problem?: string }[] = [];
    const log = { error() {}, info() {}, debug() {}, warn: (fields: object) => void warnings.push(fields) };
    try {
      for (const host of ['[::ffff:127.0.0.1]', '[::127.0.0.1]', '[64:ff9b::127.0.0.1]', '[2002:7f00:1::]']) {
        const delivered = await deliverPingback(`http://${host}:${port}/hook`, '1', { outcome: 'failed', code: 'ERROR_CAPTCHA_UNSOLVABLE' }, '', {
          log,
          retryDelaysMs: [1],
          timeoutMs: 1000,
        });
        assert.equal(delivered, false, host);
      }
      assert.equal(hits, 0, 'the receiver on loopback was never contacted');
      assert.ok(warnings.length === 4 && warnings.every((w) => w.problem === 'the host resolves to a private address'));
      // The same receiver is reached when private targets are allowed: the refusal above is the check, not the network.
      const allowed = await deliverPingback(`http://[::ffff:127.0.0.1]:${port}/hook`, '1', { outcome: 'failed', code: 'ERROR_CAPTCHA_UNSOLVABLE' }, '', {
        log,
        allowPrivate: true,
        retryDelaysMs: [],
        timeoutMs: 1000,
      });
      assert.equal(allowed, true);
      assert.equal(hits, 1);
    } finally {
      receiver.close();
    }
  });
});
