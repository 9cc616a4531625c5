import { QemuImgRunner } from '../qemu-img/qemu-img-runner.js';
import { DomainDisks } from './domain-disks.js';
import { type DomainOptions, LibvirtDomains } from './domains.js';
import { LibvirtInstanceSnapshots } from './instance-snapshots.js';
import { LiveVolumeSnapshots } from './live-snapshots.js';
import { Virsh } from './virsh.js';

// How and why live snapshots, instance snapshots and quiesce work as they do: docs/live-snapshots.md.

export interface LibvirtHypervisorOptions extends DomainOptions {
  /** libvirt connection URI; default qemu:///system. */
  uri?: string;
  virsh?: Virsh;
  qemuImg?: QemuImgRunner;
}

/**
 * The agent's hypervisor layer for instances that run as libvirt domains: one libvirt connection, and a part per
 * concern on it. Each call is a fresh virsh process; nothing here takes locks (LibvirtDriver does).
 */
export class LibvirtHypervisor {
  readonly virsh: Virsh;
  /** Which files the domains use, and the snapshot tags inside them. */
  readonly disks: DomainDisks;
  /** Define, start, stop, undefine; their state. */
  readonly domains: LibvirtDomains;
  /** Volume snapshots of a running disk. */
  readonly liveSnapshots: LiveVolumeSnapshots;
  /** Every disk of an instance at one instant, with or without memory. */
  readonly instanceSnapshots: LibvirtInstanceSnapshots;

  constructor(options: LibvirtHypervisorOptions = {}) {
    this.virsh = options.virsh ?? new Virsh({ uri: options.uri ?? 'qemu:///system' });
    this.disks = new DomainDisks(this.virsh, options.qemuImg ?? new QemuImgRunner());
    this.domains = new LibvirtDomains(this.virsh, this.disks, options);
    this.liveSnapshots = new LiveVolumeSnapshots(this.domains, this.disks);
    this.instanceSnapshots = new LibvirtInstanceSnapshots(this.domains, this.disks);
  }
}
