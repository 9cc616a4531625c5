import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses a webhook may not reach: the api's own host and networks (loopback, private, link-local,
 * unique-local, carrier-grade NAT), addresses that mean "any"/"none" (unspecified, broadcast, reserved), multicast,
 * and the documentation and benchmark ranges that no real receiver uses. IPv6 forms that embed an IPv4 address
 * (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the
 * IPv4 address inside, so `[::ffff:127.0.0.1]` is loopback as 127.0.0.1 is.
 */
const IPV4_REFUSED: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private (shared address space)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved (benchmarking)'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const IPV6_REFUSED: ReadonlyArray<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'reserved (discard)'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

function blockList(rules: ReadonlyArray<[string, number, string]>, family: 'ipv4' | 'ipv6') {
  return rules.map(([network, prefix, reason]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return { list, reason };
  });
}

const V4 = blockList(IPV4_REFUSED, 'ipv4');
const V6 = blockList(IPV6_REFUSED, 'ipv6');

/** The 16 bytes of an IPv6 address (the zone, if any, dropped); null if it is not one. */
export function ipv6Bytes(address: string): number[] | null {
  let text = address.split('%')[0];
  if (!isIPv6(text)) return null;
  // A trailing dotted quad (::ffff:1.2.3.4) is two 16-bit groups.
  text = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) =>
    [((+a << 8) | +b).toString(16), ((+c << 8) | +d).toString(16)].join(':'),
  );
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const [left, right] = text.split('::') as [string, string | undefined];
  const groups =
    right === undefined
      ? words(left)
      : [...words(left), ...Array<number>(8 - words(left).length - words(right).length).fill(0), ...words(right)];
  if (groups.length !== 8) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), or null. */
export function embeddedIpv4(bytes: readonly number[]): string | null {
  const zero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const quad = (at: number) => bytes.slice(at, at + 4).join('.');
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return quad(12); // ::ffff:a.b.c.d
  if (zero(0, 12) && !zero(12, 14)) return quad(12); // ::a.b.c.d (not :: or ::1)
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zero(4, 12)) return quad(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return quad(2); // 2002:aabb:ccdd::
  return null;
}

/** Why a webhook may not reach this address ('loopback', 'private', …), or null when it may. */
export function refusedReason(address: string): string | null {
  if (isIPv4(address)) {
    if (address === '255.255.255.255') return 'broadcast';
    return V4.find((r) => r.list.check(address, 'ipv4'))?.reason ?? null;
  }
  const bytes = ipv6Bytes(address);
  if (!bytes) return 'not an IP address';
  const inner = embeddedIpv4(bytes);
  if (inner) {
    const reason = refusedReason(inner);
    return reason ? `${reason} (${inner} inside ${address})` : null;
  }
  const text = address.split('%')[0];
  return V6.find((r) => r.list.check(text, 'ipv6'))?.reason ?? null;
}
