import { embeddedIpv4, ipv6Bytes, refusedReason } from './address-classification.js';

describe('refusedReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private (shared address space)'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['ff02::1', 'multicast'],
  ])('refuses %s as %s', (address, reason) => {
    expect(refusedReason(address)).toBe(reason);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:a00:1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::10.0.0.1', 'private'],
    ['64:ff9b::192.168.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
  ])('judges %s by the IPv4 address inside it (%s)', (address, reason) => {
    expect(refusedReason(address)).toMatch(new RegExp(`^${reason.replace(/[()]/g, '\\$&')} \\(`));
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '2002:808:808::',
  ])('lets %s through', (address) => {
    expect(refusedReason(address)).toBeNull();
  });

  it('refuses what is not an address', () => {
    expect(refusedReason('example.com')).toBe('not an IP address');
  });
});

describe('ipv6Bytes', () => {
  it('expands every spelling of one address to the same bytes', () => {
    const expected = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];
    expect(ipv6Bytes('::ffff:127.0.0.1')).toEqual(expected);
    expect(ipv6Bytes('0:0:0:0:0:ffff:7f00:0001')).toEqual(expected);
    expect(ipv6Bytes('::FFFF:7F00:1')).toEqual(expected);
    expect(ipv6Bytes('1.2.3.4')).toBeNull();
  });

  it('finds no IPv4 address in a plain IPv6 one', () => {
    expect(embeddedIpv4(ipv6Bytes('2606:4700::1111')!)).toBeNull();
    expect(embeddedIpv4(ipv6Bytes('::1')!)).toBeNull();
  });
});
