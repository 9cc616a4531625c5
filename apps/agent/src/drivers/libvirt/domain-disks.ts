import { QemuImgProcessError, type QemuImgRunner } from '../qemu-img/qemu-img-runner.js';
import { DriverError } from '../volume-driver.js';
import { diskTarget } from './domain-xml.js';
import type { Virsh } from './virsh.js';

/** A disk of an instance: its index in volume order (0 = ROOT = vda), its target ('vdb') or its file's path. */
export type VolumeRef = number | string;

/** One disk of a domain as libvirt and QEMU see it. */
export interface DomainDisk {
  target: string;
  path: string;
  /** QEMU's format node (only while the domain runs). */
  nodeName?: string;
  /** Internal snapshot tags in the image. */
  tags: string[];
}

interface QueryBlockEntry {
  qdev?: string;
  inserted?: {
    file?: string;
    'node-name'?: string;
    image?: { filename?: string; snapshots?: { name: string }[] };
  };
}

const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** A snapshot tag or instance snapshot name: an id-like token, never all digits (qemu-img would take it for an ID). */
export function checkTag(tag: string, what: string): void {
  if (!TAG.test(tag) || /^\d+$/.test(tag)) {
    throw new DriverError(`${what} "${tag}" is not usable as an internal snapshot tag (letters, digits, _ . : -)`);
  }
}

/** Disk inspection of domains: which files they use, QEMU's node names, and the internal snapshot tags inside. */
export class DomainDisks {
  constructor(
    private readonly virsh: Virsh,
    private readonly qemuImg: QemuImgRunner,
  ) {}

  /** The domain's file disks (target and path) as `domblklist --details` lists them, in target order. */
  async fileDisks(domain: string, inactive = false): Promise<Array<{ target: string; path: string }>> {
    const listing = await this.virsh.run(['domblklist', domain, '--details', ...(inactive ? ['--inactive'] : [])]);
    const disks: Array<{ target: string; path: string }> = [];
    for (const line of listing.split('\n').slice(2)) {
      const [, type, device, target, path] = /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(.+?)\s*$/.exec(line) ?? [];
      if (type === 'file' && device === 'disk' && target && path) disks.push({ target, path });
    }
    return disks;
  }

  /**
   * The domain's file disks in target order. Live: paths from `domblklist`, node names and tags from QMP
   * `query-block` (matched by file). Inactive: the definition's paths and `qemu-img info -U` tags.
   */
  async read(domain: string, inactive: boolean): Promise<DomainDisk[]> {
    const disks: DomainDisk[] = (await this.fileDisks(domain, inactive)).map((d) => ({ ...d, tags: [] }));
    if (inactive) {
      for (const disk of disks) disk.tags = await this.imageTags(disk.path);
      return disks;
    }
    const blocks = await this.virsh.qmp<QueryBlockEntry[]>(domain, 'query-block');
    for (const disk of disks) {
      const block = blocks.find((b) => b.inserted?.file === disk.path || b.inserted?.image?.filename === disk.path);
      if (block?.inserted?.['node-name']) disk.nodeName = block.inserted['node-name'];
      disk.tags = (block?.inserted?.image?.snapshots ?? []).map((s) => s.name);
    }
    return disks;
  }

  /** One disk of a running domain, by index, target or path, with its QEMU node name; else a DriverError. */
  async live(instanceId: string, domain: string, volume: VolumeRef): Promise<DomainDisk> {
    const disks = await this.read(domain, false);
    const target = typeof volume === 'number' ? diskTarget(volume) : volume;
    const disk = disks.find((d) => d.target === target || d.path === target);
    if (!disk) {
      throw new DriverError(
        `instance ${instanceId} has no disk ${typeof volume === 'number' ? `${volume} (${target})` : volume} (it has ${disks.map((d) => d.target).join(', ')})`,
      );
    }
    if (!disk.nodeName) throw new DriverError(`QEMU shows no block node for ${disk.path} of instance ${instanceId}`);
    return disk;
  }

  private async imageTags(path: string): Promise<string[]> {
    const json = await this.runQemuImg(['info', '-U', '-f', 'qcow2', '--output=json', path]);
    const info = JSON.parse(json) as { snapshots?: { name: string }[] };
    return (info.snapshots ?? []).map((s) => s.name);
  }

  /** qemu-img with its failure turned into a DriverError (stderr without its prefix; retryable on a timeout). */
  async runQemuImg(args: string[]): Promise<string> {
    try {
      return await this.qemuImg.run(args);
    } catch (error) {
      if (error instanceof QemuImgProcessError) {
        const reason = error.notInstalled
          ? 'qemu-img is not installed (apt-get install qemu-utils)'
          : error.stderr.trim().replace(/^qemu-img:\s*/gm, '') || `exit code ${String(error.exitCode)}`;
        throw new DriverError(`qemu-img ${args[0] ?? ''} failed: ${reason}`, error.timedOut);
      }
      throw error;
    }
  }
}
