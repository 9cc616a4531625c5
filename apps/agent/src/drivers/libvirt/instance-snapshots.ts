import { performance } from 'node:perf_hooks';
import { DriverError } from '../volume-driver.js';
import { checkTag, type DomainDisks } from './domain-disks.js';
import type { InstanceState, LibvirtDomains } from './domains.js';
import { domainName } from './domain-xml.js';
import { elapsed, withQuiesce } from './quiesce.js';

export type InstanceSnapshotKind = 'memory' | 'disk';

/** What libvirt or QEMU cannot do, said precisely; retrying will not help. */
export class UnsupportedOperationError extends DriverError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedOperationError';
  }
}

export interface InstanceSnapshotOptions {
  withMemory: boolean;
  quiesce?: boolean;
  description?: string;
}

export interface InstanceSnapshotResult {
  alreadyExisted: boolean;
  kind: InstanceSnapshotKind;
  quiesced: boolean;
  /** Upper bound of the guest's pause (memory: savevm stops the vCPUs; disk: I/O drained on every disk). */
  guestPauseMs: number;
  durationMs: number;
}

export interface RevertOptions {
  /** The state the instance is left in. */
  state: 'running' | 'paused' | 'stopped';
}

export interface RevertResult {
  kind: InstanceSnapshotKind;
  state: InstanceState;
}

export interface DeleteInstanceSnapshotResult {
  alreadyGone: boolean;
  kind: InstanceSnapshotKind | null;
}

/**
 * Instance snapshots: every disk of an instance at one instant, with memory (a libvirt system checkpoint) or
 * without (one QMP transaction over every disk, or qemu-img on a stopped instance). See docs/live-snapshots.md.
 */
export class LibvirtInstanceSnapshots {
  constructor(
    private readonly domains: LibvirtDomains,
    private readonly disks: DomainDisks,
  ) {}

  /** Whether `name` is an instance snapshot of the instance, and of which kind. */
  async kind(instanceId: string, name: string): Promise<InstanceSnapshotKind | null> {
    checkTag(name, 'recovery point name');
    const domain = domainName(instanceId);
    const state = await this.domains.instanceState(instanceId);
    if (state === 'MISSING') return null;
    if (await this.hasLibvirtSnapshot(domain, name)) return 'memory';
    const disks = await this.disks.read(domain, state === 'STOPPED');
    return disks.some((d) => d.tags.includes(name)) ? 'disk' : null;
  }

  /**
   * An instance snapshot: every disk of the instance at one instant, with memory (libvirt system checkpoint) or
   * without (one QMP transaction, or qemu-img on a stopped instance). An existing point is alreadyExisted.
   */
  async create(instanceId: string, name: string, options: InstanceSnapshotOptions): Promise<InstanceSnapshotResult> {
    checkTag(name, 'recovery point name');
    const start = performance.now();
    const domain = domainName(instanceId);
    const state = await this.domains.instanceState(instanceId);
    if (state === 'MISSING') throw new DriverError(`instance ${instanceId} has no libvirt domain`);
    const kind: InstanceSnapshotKind = options.withMemory ? 'memory' : 'disk';
    const done = (alreadyExisted: boolean, quiesced: boolean, guestPauseMs: number): InstanceSnapshotResult => ({
      alreadyExisted,
      kind,
      quiesced,
      guestPauseMs,
      durationMs: elapsed(start),
    });

    if (options.withMemory) {
      if (await this.hasLibvirtSnapshot(domain, name)) return done(true, false, 0);
      if (options.quiesce) {
        throw new UnsupportedOperationError(
          `a recovery point with memory cannot be quiesced: the frozen guest would be saved frozen and come back ` +
            `frozen after every revert (and a memory point is consistent without it); ask for one without memory`,
        );
      }
      if (state === 'STOPPED') {
        throw new UnsupportedOperationError(
          `instance ${instanceId} is stopped: a recovery point with memory needs a running instance`,
        );
      }
      const args = ['snapshot-create-as', domain, name, '--atomic'];
      if (options.description) args.push('--description', options.description);
      // savevm stops the vCPUs for the whole command: its duration (virsh -t) bounds the guest's pause.
      const { commandMs } = await this.domains.virsh.runTimed(args);
      return done(false, false, commandMs);
    }

    if (await this.hasLibvirtSnapshot(domain, name)) {
      throw new DriverError(`recovery point ${name} of instance ${instanceId} exists already with memory`);
    }
    if (state === 'STOPPED') {
      for (const disk of await this.disks.read(domain, true)) {
        if (!disk.tags.includes(name)) await this.disks.runQemuImg(['snapshot', '-c', name, disk.path]);
      }
      return done(false, false, 0);
    }
    const disks = await this.disks.read(domain, false);
    const have = disks.filter((d) => d.tags.includes(name));
    if (have.length === disks.length) return done(true, false, 0);
    if (have.length > 0) {
      throw new DriverError(
        `recovery point ${name} of instance ${instanceId} exists on ${have.map((d) => d.target).join(', ')} only: ` +
          `the rest cannot be taken at the same instant now; delete it and take it again`,
      );
    }
    const actions = disks.map((d) => ({
      type: 'blockdev-snapshot-internal-sync',
      data: { device: d.nodeName, name },
    }));
    const { quiesced, guestPauseMs } = await withQuiesce(
      this.domains.virsh,
      instanceId,
      domain,
      options.quiesce === true,
      () => this.domains.qmpLive(instanceId, domain, 'transaction', { actions }).then((reply) => reply.commandMs),
    );
    const after = await this.disks.read(domain, false);
    const missing = after.filter((d) => !d.tags.includes(name)).map((d) => d.target);
    if (missing.length > 0) {
      throw new DriverError(`QEMU reported success but ${missing.join(', ')} has no snapshot ${name}`);
    }
    return done(false, quiesced, guestPauseMs);
  }

  /**
   * Puts every disk (and, for a memory point, the guest's memory and devices) back to the instance snapshot and
   * leaves the instance in `state`. A disk-only point is reverted only while the instance is stopped.
   */
  async revert(instanceId: string, name: string, options: RevertOptions): Promise<RevertResult> {
    checkTag(name, 'recovery point name');
    const domain = domainName(instanceId);
    const kind = await this.kind(instanceId, name);
    if (kind === null) throw new DriverError(`instance ${instanceId} has no recovery point ${name}`);
    if (kind === 'memory') {
      await this.domains.virsh.run([
        'snapshot-revert',
        domain,
        name,
        options.state === 'running' ? '--running' : '--paused',
      ]);
      if (options.state === 'stopped') await this.domains.destroy(domain);
      return { kind, state: await this.domains.instanceState(instanceId) };
    }
    const state = await this.domains.instanceState(instanceId);
    if (state !== 'STOPPED') {
      throw new UnsupportedOperationError(
        `recovery point ${name} has no memory: it can be reverted only while instance ${instanceId} is stopped ` +
          `(it is ${state}); QEMU cannot replace a running disk's contents under the guest`,
      );
    }
    const disks = await this.disks.read(domain, true);
    const missing = disks.filter((d) => !d.tags.includes(name)).map((d) => d.target);
    if (missing.length > 0) {
      throw new DriverError(`recovery point ${name} is missing on ${missing.join(', ')} of instance ${instanceId}`);
    }
    for (const disk of disks) await this.disks.runQemuImg(['snapshot', '-a', name, disk.path]);
    if (options.state !== 'stopped') {
      await this.domains.virsh.run(options.state === 'paused' ? ['start', domain, '--paused'] : ['start', domain]);
    }
    return { kind, state: await this.domains.instanceState(instanceId) };
  }

  /** Deletes an instance snapshot from libvirt's metadata and every disk; a missing one is alreadyGone. */
  async delete(instanceId: string, name: string): Promise<DeleteInstanceSnapshotResult> {
    checkTag(name, 'recovery point name');
    const domain = domainName(instanceId);
    const kind = await this.kind(instanceId, name);
    if (kind === null) return { alreadyGone: true, kind: null };
    if (kind === 'memory') {
      await this.domains.virsh.run(['snapshot-delete', domain, name]);
      return { alreadyGone: false, kind };
    }
    const state = await this.domains.instanceState(instanceId);
    const disks = await this.disks.read(domain, state === 'STOPPED');
    for (const disk of disks.filter((d) => d.tags.includes(name))) {
      if (state === 'STOPPED') {
        await this.disks.runQemuImg(['snapshot', '-d', name, disk.path]);
      } else {
        await this.domains.qmpLive(instanceId, domain, 'blockdev-snapshot-delete-internal-sync', {
          device: disk.nodeName,
          name,
        });
      }
    }
    return { alreadyGone: false, kind };
  }

  /** What libvirt recorded of a point it made (`snapshot-dumpxml`): the snapshot and the domain as it was. */
  dumpXml(instanceId: string, name: string): Promise<string> {
    return this.domains.virsh.run(['snapshot-dumpxml', this.domains.domainName(instanceId), name]);
  }

  private async hasLibvirtSnapshot(domain: string, name: string): Promise<boolean> {
    const names = (await this.domains.virsh.run(['snapshot-list', domain, '--name'])).split('\n').map((s) => s.trim());
    return names.includes(name);
  }
}
