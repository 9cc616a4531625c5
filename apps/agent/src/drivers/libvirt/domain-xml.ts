import { diskDevice } from '@snapdeck/domain';
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { DriverError } from '../volume-driver.js';

/** `kvm` needs a usable /dev/kvm; `qemu` (software emulation, TCG) works everywhere and is what the tests use. */
export type DomainType = 'kvm' | 'qemu';

/** The QEMU guest agent's channel name: a real guest's qemu-guest-agent answers on it (quiesce, fsfreeze). */
export const GUEST_AGENT_CHANNEL = 'org.qemu.guest_agent.0';

/** At most vda…vdz: each virtio-blk disk takes one PCI slot of the i440fx machine. */
export const MAX_DISKS = 26;

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The domain of an instance is named `i-<instanceId>` (API-CONTRACT.md, storage layout). */
export function domainName(instanceId: string): string {
  if (!INSTANCE_ID.test(instanceId)) {
    throw new DriverError(`instance id "${instanceId}" cannot name a libvirt domain (letters, digits, _ . - only)`);
  }
  return `i-${instanceId}`;
}

/**
 * The domain's UUID: the instance id itself when it is one (Snapdeck's ids are), else one derived from it, so a
 * redefinition always matches the domain already defined (libvirt refuses a same-named domain with another UUID).
 */
export function domainUuid(instanceId: string): string {
  if (UUID.test(instanceId)) return instanceId.toLowerCase();
  const hex = createHash('sha1').update(`snapdeck-instance:${instanceId}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** Volume order → disk target: 0 (ROOT) → vda, 1 → vdb, … */
export function diskTarget(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_DISKS) {
    throw new DriverError(`volume index ${index} is out of range: an instance has at most ${MAX_DISKS} disks`);
  }
  return diskDevice(index);
}

/** Text for an XML attribute or element: the five special characters escaped; control characters refused. */
export function escapeXml(value: string): string {
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value)) {
    throw new DriverError('a control character cannot appear in a libvirt domain definition');
  }
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export interface DomainXmlInput {
  instanceId: string;
  /** Absolute paths of the instance's qcow2 volumes in volume order: ROOT first (vda), then DATA disks. */
  volumePaths: readonly string[];
  domainType: DomainType;
  /** Guest memory; small by default, since Snapdeck's guests exist to hold disks. */
  memoryMiB?: number;
  vcpus?: number;
  /** Host cache mode of every disk. `none` (O_DIRECT, CloudStack's default) needs a file system that allows it. */
  cache?: 'none' | 'writeback' | 'writethrough' | 'directsync' | 'unsafe';
  /** Overrides the UUID (an existing domain's); defaults to domainUuid(instanceId). */
  uuid?: string;
}

/**
 * The persistent definition of an instance's domain: 1 vCPU, little memory, no network, its volumes as virtio
 * disks in volume order, a serial console, and the guest-agent channel (virtio-serial) that quiesce needs.
 */
export function buildDomainXml(input: DomainXmlInput): string {
  const name = domainName(input.instanceId);
  const uuid = input.uuid ?? domainUuid(input.instanceId);
  if (!UUID.test(uuid)) throw new DriverError(`"${uuid}" is not a UUID`);
  const memoryMiB = input.memoryMiB ?? 128;
  if (!Number.isInteger(memoryMiB) || memoryMiB < 16 || memoryMiB > 65536) {
    throw new DriverError(`guest memory of ${memoryMiB} MiB is out of range (16–65536)`);
  }
  const vcpus = input.vcpus ?? 1;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 64) throw new DriverError(`${vcpus} vCPUs is out of range`);
  if (input.domainType !== 'kvm' && input.domainType !== 'qemu') {
    throw new DriverError(`domain type "${String(input.domainType)}" is neither kvm nor qemu`);
  }
  if (input.volumePaths.length === 0) throw new DriverError(`instance ${input.instanceId} has no volumes`);
  if (input.volumePaths.length > MAX_DISKS) {
    throw new DriverError(`instance ${input.instanceId} has ${input.volumePaths.length} volumes; at most ${MAX_DISKS}`);
  }
  const cache = input.cache ?? 'none';
  const disks = input.volumePaths.map((path, index) => {
    if (!isAbsolute(path)) throw new DriverError(`volume path "${path}" is not absolute`);
    return [
      `    <disk type='file' device='disk'>`,
      `      <driver name='qemu' type='qcow2' cache='${cache}' discard='unmap'/>`,
      `      <source file='${escapeXml(path)}'/>`,
      `      <target dev='${diskTarget(index)}' bus='virtio'/>`,
      ...(index === 0 ? [`      <boot order='1'/>`] : []),
      `    </disk>`,
    ].join('\n');
  });
  return [
    `<domain type='${input.domainType}'>`,
    `  <name>${escapeXml(name)}</name>`,
    `  <uuid>${uuid}</uuid>`,
    `  <metadata>`,
    `    <snapdeck:instance xmlns:snapdeck='https://snapdeck.dev/xmlns/libvirt/instance/1' id='${escapeXml(input.instanceId)}'/>`,
    `  </metadata>`,
    `  <memory unit='MiB'>${memoryMiB}</memory>`,
    `  <vcpu>${vcpus}</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64' machine='pc'>hvm</type>`,
    `  </os>`,
    `  <features>`,
    `    <acpi/>`,
    `    <apic/>`,
    `  </features>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>restart</on_reboot>`,
    `  <on_crash>destroy</on_crash>`,
    `  <devices>`,
    ...disks,
    `    <controller type='usb' model='none'/>`,
    `    <serial type='pty'>`,
    `      <target port='0'/>`,
    `    </serial>`,
    `    <console type='pty'>`,
    `      <target type='serial' port='0'/>`,
    `    </console>`,
    `    <channel type='unix'>`,
    `      <target type='virtio' name='${GUEST_AGENT_CHANNEL}'/>`,
    `    </channel>`,
    `    <memballoon model='none'/>`,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}
