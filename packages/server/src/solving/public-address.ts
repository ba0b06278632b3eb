/**
 * Whether an IP address is on the public internet, for pingback delivery (SSRF defence).
 *
 * Addresses are parsed and classified by ipaddr.js, whose tables follow IANA's IPv4 and IPv6
 * special-purpose address registries. An address is public when it is in no special range, or in
 * one of the few that the registries mark globally reachable. IPv6 forms that carry an IPv4
 * address are judged by that address, since that is where a packet to them ends up:
 * IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), IPv4-translated
 * (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`), 6to4 (`2002:AABB:CCDD::`) and Teredo
 * (`2001:0:SERVER:…:~CLIENT`, both addresses). The local-use NAT64 prefix `64:ff9b:1::/48`
 * is not globally reachable, so it is refused whatever it embeds. Any other IPv6 address must also
 * lie in global unicast space (`2000::/3`).
 */
import ipaddr from 'ipaddr.js';

/** ipaddr.js range names whose IANA entries say "globally reachable: true". */
const GLOBAL_V4 = new Set(['unicast', 'as112', 'amt']);
const GLOBAL_V6 = new Set(['unicast', 'as112v6', 'amt', 'orchid2', 'droneRemoteIdProtocolEntityTags']);

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number];

function v4FromWords(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function isPublicV4(address: ipaddr.IPv4): boolean {
  return GLOBAL_V4.has(address.range());
}

/** The IPv4 addresses an IPv6 address stands for, or undefined when it embeds none. */
function embeddedV4(address: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const w = address.parts as [number, number, number, number, number, number, number, number];
  const upperZero = w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0;
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible; :: and ::1 are left to the range check), ::ffff:0:a.b.c.d (translated)
  if (upperZero && w[4] === 0 && w[5] === 0xffff) return [v4FromWords(w[6], w[7])];
  if (upperZero && w[4] === 0 && w[5] === 0 && (w[6] !== 0 || w[7] > 1)) return [v4FromWords(w[6], w[7])];
  if (upperZero && w[4] === 0xffff && w[5] === 0) return [v4FromWords(w[6], w[7])];
  if (address.match(NAT64_WELL_KNOWN)) return [v4FromWords(w[6], w[7])];
  const range = address.range();
  if (range === '6to4') return [v4FromWords(w[1], w[2])];
  // Teredo: the server's address in the clear, the client's with every bit flipped.
  if (range === 'teredo') return [v4FromWords(w[2], w[3]), v4FromWords(~w[6] & 0xffff, ~w[7] & 0xffff)];
  return undefined;
}

/** Whether `text` is an IP address (IPv4 or IPv6, brackets and zone allowed) on the public internet. */
export function isPublicAddress(text: string): boolean {
  if (!isIpAddress(text)) return false;
  const address = ipaddr.parse(text.replace(/^\[|\]$/g, ''));
  if (address.kind() === 'ipv4') return isPublicV4(address as ipaddr.IPv4);
  const v6 = address as ipaddr.IPv6;
  if (v6.zoneId !== undefined) return false; // a zone only means something on a local link
  const embedded = embeddedV4(v6);
  if (embedded) return embedded.every(isPublicV4);
  return v6.match(GLOBAL_UNICAST_V6) && GLOBAL_V6.has(v6.range());
}

/** Whether `text` is an IP address in a canonical spelling: four decimal parts, or IPv6 (brackets and zone allowed). */
export function isIpAddress(text: string): boolean {
  const bare = text.replace(/^\[|\]$/g, '');
  return ipaddr.IPv4.isValidFourPartDecimal(bare) || ipaddr.IPv6.isValid(bare);
}
