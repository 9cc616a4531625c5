import { DriverError } from '../volume-driver.js';
import { buildDomainXml, diskTarget, domainName, domainUuid, escapeXml, GUEST_AGENT_CHANNEL } from './domain-xml.js';

const ID = '3f2b8c1e-9d4a-4e2f-8b1a-0c5d6e7f8a9b';

describe('domain-xml', () => {
  it('names the domain i-<instanceId> and refuses ids that cannot name one', () => {
    expect(domainName(ID)).toBe(`i-${ID}`);
    expect(() => domainName('../etc')).toThrow(DriverError);
    expect(() => domainName('a b')).toThrow(DriverError);
    expect(() => domainName('')).toThrow(DriverError);
  });

  it('uses the instance id as UUID when it is one, else a stable derived one', () => {
    expect(domainUuid(ID.toUpperCase())).toBe(ID);
    const derived = domainUuid('web-1');
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(domainUuid('web-1')).toBe(derived);
    expect(domainUuid('web-2')).not.toBe(derived);
  });

  it('maps volume order to virtio targets, ROOT first', () => {
    expect([0, 1, 2, 25].map(diskTarget)).toEqual(['vda', 'vdb', 'vdc', 'vdz']);
    expect(() => diskTarget(26)).toThrow(DriverError);
    expect(() => diskTarget(-1)).toThrow(DriverError);
    expect(() => diskTarget(1.5)).toThrow(DriverError);
  });

  it('escapes the five XML characters and refuses control characters', () => {
    expect(escapeXml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
    expect(() => escapeXml('a\u0001b')).toThrow(DriverError);
    expect(escapeXml('tab\tand\nnewline')).toBe('tab\tand\nnewline');
  });

  describe('buildDomainXml', () => {
    const xml = buildDomainXml({
      instanceId: ID,
      volumePaths: ['/srv/volumes/root.qcow2', "/srv/vol'umes/<data>&.qcow2"],
      domainType: 'qemu',
    });

    it('describes a small persistent qemu domain with the UUID and no network', () => {
      expect(xml).toMatch(/^<domain type='qemu'>/);
      expect(xml).toContain(`<name>i-${ID}</name>`);
      expect(xml).toContain(`<uuid>${ID}</uuid>`);
      expect(xml).toContain(`<memory unit='MiB'>128</memory>`);
      expect(xml).toContain('<vcpu>1</vcpu>');
      expect(xml).toContain('<acpi/>');
      expect(xml).not.toContain('<interface');
      expect(xml).not.toContain('<graphics');
    });

    it('lists the disks as virtio qcow2 in volume order, paths escaped, ROOT booting', () => {
      const disks = [...xml.matchAll(/<source file='([^']*)'\/>\s*<target dev='(vd.)' bus='virtio'\/>/g)].map((m) => [
        m[1],
        m[2],
      ]);
      expect(disks).toEqual([
        ['/srv/volumes/root.qcow2', 'vda'],
        ['/srv/vol&apos;umes/&lt;data&gt;&amp;.qcow2', 'vdb'],
      ]);
      expect(xml.match(/<driver name='qemu' type='qcow2' cache='none' discard='unmap'\/>/g)).toHaveLength(2);
      expect(xml.match(/<boot order='1'\/>/g)).toHaveLength(1);
    });

    it('has a serial console and the guest-agent channel on virtio-serial', () => {
      expect(xml).toContain(`<serial type='pty'>`);
      expect(xml).toContain(`<console type='pty'>`);
      expect(xml).toContain(`<target type='virtio' name='${GUEST_AGENT_CHANNEL}'/>`);
    });

    it('takes kvm, memory, cache and an existing UUID when given', () => {
      const other = buildDomainXml({
        instanceId: 'web-1',
        volumePaths: ['/v/a.qcow2'],
        domainType: 'kvm',
        memoryMiB: 256,
        cache: 'writeback',
        uuid: ID,
      });
      expect(other).toMatch(/^<domain type='kvm'>/);
      expect(other).toContain(`<memory unit='MiB'>256</memory>`);
      expect(other).toContain(`cache='writeback'`);
      expect(other).toContain(`<uuid>${ID}</uuid>`);
    });

    it('refuses what would make a broken domain', () => {
      const base = { instanceId: ID, volumePaths: ['/v/a.qcow2'], domainType: 'qemu' as const };
      expect(() => buildDomainXml({ ...base, volumePaths: [] })).toThrow('has no volumes');
      expect(() => buildDomainXml({ ...base, volumePaths: ['relative.qcow2'] })).toThrow('not absolute');
      expect(() => buildDomainXml({ ...base, volumePaths: Array(27).fill('/v/a.qcow2') })).toThrow('at most 26');
      expect(() => buildDomainXml({ ...base, memoryMiB: 4 })).toThrow('out of range');
      expect(() => buildDomainXml({ ...base, uuid: 'nope' })).toThrow('not a UUID');
      expect(() => buildDomainXml({ ...base, domainType: 'xen' as never })).toThrow('neither kvm nor qemu');
    });
  });
});
