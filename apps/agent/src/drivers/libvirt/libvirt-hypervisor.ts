import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemuImgProcessError, QemuImgRunner } from '../qemu-img/qemu-img-runner.js';
import { DriverError } from '../volume-driver.js';
import { buildDomainXml, diskTarget, domainName, type DomainType, domainUuid } from './domain-xml.js';
import { QmpError, Virsh, VirshError } from './virsh.js';

/*
 * LibvirtHypervisor: the agent's hypervisor layer for instances that run as libvirt domains.
 *
 * Volume snapshots of a RUNNING domain
 * ------------------------------------
 * A live volume snapshot is QEMU's internal snapshot of the running disk: QMP `blockdev-snapshot-internal-sync`
 * on the disk's format node (libvirt 9 starts QEMU with -blockdev and node names such as `libvirt-2-format`;
 * the qdev id `virtio-disk0` and the QOM path are refused by that command, the `-storage` node answers "Need a
 * root block node"), tagged with the snapshot id. QEMU drains the disk's I/O for the few milliseconds it takes;
 * the vCPUs keep running. It is chosen over CloudStack's external snapshot + copy + blockcommit because it
 * leaves no chain at all (the domain keeps writing to the same file, `domblklist` is unchanged) and yields
 * exactly the internal qcow2 snapshot the offline qemu-img driver makes with `qemu-img snapshot -c <snapshotId>`,
 * so revert (`qemu-img snapshot -a`, offline only), templates and clones (`qemu-img convert -l
 * snapshot.name=<id>`) work unchanged on it. Deleting one is `blockdev-snapshot-delete-internal-sync`. Both are
 * synchronous: their failure is the command's error reply (virsh exits 0 then; Virsh.qmp turns it into a
 * QmpError), and a created tag is read back from `query-block` before success is reported. An existing tag is
 * success (alreadyExisted), a missing one on delete too (alreadyGone). libvirt keeps no metadata for these
 * snapshots; it marks the domain "tainted: custom-monitor" in its log, which is harmless.
 *
 * Quiesce: `virsh domfsfreeze` before, `domfsthaw` after (always, in finally). When the guest agent does not
 * answer, the operation fails with a QuiesceError and takes NO snapshot.
 *
 * Instance snapshots (a whole instance at one instant)
 * -------------------------------------------------
 * - With memory: libvirt's internal system checkpoint, `virsh snapshot-create-as <dom> <name> --atomic` (QEMU
 *   savevm: memory in the ROOT disk, the same tag on every disk). Reverted with `snapshot-revert --running |
 *   --paused` (libvirt restarts QEMU with the saved state, ~6 s); "stopped" is revert --paused then destroy.
 * - Without memory on a running domain: libvirt 9.0 refuses every internal form ("active qemu domains require
 *   external disk snapshots" for --disk-only; "internal snapshot of a running VM must include the memory state"
 *   for --memspec snapshot=no; "live snapshot creation is supported only during full system snapshots" for
 *   --live). The nearest right thing is one QMP `transaction` of blockdev-snapshot-internal-sync on every disk:
 *   atomic across the disks (all or none), no chain, no libvirt metadata. On a stopped domain the same tags are
 *   made with `qemu-img snapshot -c` on each disk. Such a point is reverted offline only (`qemu-img snapshot -a`
 *   on every disk, then started as asked): QEMU cannot swap a running disk's contents under a guest.
 * - Quiesce with memory is refused: a memory point is consistent by itself, and a frozen guest would be saved
 *   frozen and come back frozen after every revert. Quiesce of a stopped instance has nothing to freeze: the
 *   result says quiesced: false.
 * Instance snapshots and volume snapshots are all internal snapshots with distinct tags (ids), so neither breaks
 * the other's revert (CloudStack #11428 was external overlays breaking memory reverts).
 *
 * Domain life
 * -----------
 * Domains are persistent (`virsh define`, then `start`): never transient, never --autodestroy, so a domain
 * survives the agent process, its restarts and libvirtd's. Each call is a fresh virsh process.
 * Operations on one volume are serialized by the agent elsewhere; this class takes no locks.
 */

export type InstanceState = 'RUNNING' | 'STOPPED' | 'PAUSED' | 'MISSING';

/** A disk of an instance: its index in volume order (0 = ROOT = vda), its target ('vdb') or its file's path. */
export type VolumeRef = number | string;

export type InstanceSnapshotKind = 'memory' | 'disk';

/** The instance's domain is not running (shut off or not defined): use the offline qemu-img driver instead. */
export class InstanceNotRunningError extends DriverError {
  constructor(
    readonly instanceId: string,
    readonly state: InstanceState,
  ) {
    super(`instance ${instanceId} is not running (${state}): a live operation needs a running domain`);
    this.name = 'InstanceNotRunningError';
  }
}

/** Quiesce was asked for and could not be done; nothing was taken. */
export class QuiesceError extends DriverError {
  constructor(message: string) {
    super(message);
    this.name = 'QuiesceError';
  }
}

/** What libvirt or QEMU cannot do, said precisely; retrying will not help. */
export class UnsupportedOperationError extends DriverError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedOperationError';
  }
}

export interface LibvirtHypervisorOptions {
  /** libvirt connection URI; default qemu:///system. */
  uri?: string;
  /** `auto` (default): kvm when libvirt's capabilities offer it (a usable /dev/kvm), else qemu. */
  domainType?: DomainType | 'auto';
  memoryMiB?: number;
  /** Host cache mode of the disks; default none (O_DIRECT). */
  cache?: 'none' | 'writeback' | 'writethrough' | 'directsync' | 'unsafe';
  /** How often stopInstance polls the domain's state. */
  pollIntervalMs?: number;
  virsh?: Virsh;
  qemuImg?: QemuImgRunner;
}

export interface StartResult {
  /** The domain was running already (a repeated delivery): nothing was changed. */
  alreadyRunning: boolean;
  domainType: DomainType;
}

export interface StopOptions {
  /** How long the guest has to power off after the ACPI request before it is destroyed. */
  timeoutMs: number;
}

export interface StopResult {
  /** The domain was stopped or not defined already: nothing was done. */
  alreadyStopped: boolean;
  /** The guest did not power off within the timeout (or was paused) and was destroyed. */
  forced: boolean;
}

export interface LiveSnapshotOptions {
  /** Freeze the guest's file systems through the guest agent around the snapshot; fail if it does not answer. */
  quiesce?: boolean;
}

export interface LiveSnapshotResult {
  /** The tag was there already (a repeated delivery): nothing was taken, the guest was not frozen. */
  alreadyExisted: boolean;
  /** This call froze the guest's file systems around the snapshot. */
  quiesced: boolean;
  /**
   * How long the guest's writes were held: freeze → thaw when quiesced, else the snapshot command's duration as
   * virsh measures it (`virsh -t`: libvirtd → QEMU monitor → answer; an upper bound, since QEMU drains only this
   * disk and the vCPUs keep running). 0 when alreadyExisted.
   */
  guestPauseMs: number;
  /** The whole call. */
  durationMs: number;
  target: string;
  nodeName: string;
}

export interface DeleteLiveSnapshotResult {
  alreadyGone: boolean;
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
function checkTag(tag: string, what: string): void {
  if (!TAG.test(tag) || /^\d+$/.test(tag)) {
    throw new DriverError(`${what} "${tag}" is not usable as an internal snapshot tag (letters, digits, _ . : -)`);
  }
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

export class LibvirtHypervisor {
  readonly virsh: Virsh;
  private readonly qemuImg: QemuImgRunner;
  private readonly requestedType: DomainType | 'auto';
  private resolvedType: DomainType | undefined;
  private readonly memoryMiB: number | undefined;
  private readonly cache: LibvirtHypervisorOptions['cache'];
  private readonly pollIntervalMs: number;

  constructor(options: LibvirtHypervisorOptions = {}) {
    this.virsh = options.virsh ?? new Virsh({ uri: options.uri ?? 'qemu:///system' });
    this.qemuImg = options.qemuImg ?? new QemuImgRunner();
    this.requestedType = options.domainType ?? 'auto';
    this.memoryMiB = options.memoryMiB;
    this.cache = options.cache;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
  }

  /** Checks libvirt answers and settles the domain type; a broken node refuses to start. */
  async init(): Promise<{ domainType: DomainType; version: string }> {
    const version = (await this.virsh.run(['version'])).trim().split('\n').slice(-1)[0]?.trim() ?? '';
    return { domainType: await this.domainType(), version };
  }

  /** kvm when asked, or on `auto` when libvirt's capabilities offer it; else qemu. */
  async domainType(): Promise<DomainType> {
    if (this.resolvedType) return this.resolvedType;
    if (this.requestedType !== 'auto') {
      this.resolvedType = this.requestedType;
    } else {
      const capabilities = await this.virsh.run(['capabilities']);
      this.resolvedType = /<domain type=['"]kvm['"]/.test(capabilities) ? 'kvm' : 'qemu';
    }
    return this.resolvedType;
  }

  domainName(instanceId: string): string {
    return domainName(instanceId);
  }

  async instanceState(instanceId: string): Promise<InstanceState> {
    const domain = domainName(instanceId);
    let text: string;
    try {
      text = (await this.virsh.run(['domstate', domain])).trim();
    } catch (error) {
      if (error instanceof VirshError && error.domainMissing) return 'MISSING';
      throw error;
    }
    switch (text) {
      case 'running':
      case 'idle':
      case 'blocked':
      case 'in shutdown':
        return 'RUNNING';
      case 'paused':
      case 'pmsuspended':
        return 'PAUSED';
      case 'shut off':
      case 'crashed':
        return 'STOPPED';
      default:
        throw new DriverError(`libvirt reports an unknown state "${text}" for instance ${instanceId}`);
    }
  }

  /**
   * Defines (or redefines, keeping its UUID and snapshot metadata) the instance's persistent domain with these
   * volumes, then starts it. Already running with the same disks is success; with other disks it is refused,
   * since a running domain's disks cannot be swapped here. A paused domain is resumed.
   */
  async startInstance(instanceId: string, volumePaths: readonly string[]): Promise<StartResult> {
    const domain = domainName(instanceId);
    const domainType = await this.domainType();
    const state = await this.instanceState(instanceId);
    if (state === 'RUNNING' || state === 'PAUSED') {
      const disks = await this.disks(domain, false);
      const running = disks.map((d) => d.path);
      if (running.length !== volumePaths.length || running.some((path, i) => path !== volumePaths[i])) {
        throw new DriverError(
          `instance ${instanceId} is running with disks [${running.join(', ')}], not [${volumePaths.join(', ')}]: stop it first`,
        );
      }
      if (state === 'PAUSED') await this.virsh.run(['resume', domain]);
      return { alreadyRunning: state === 'RUNNING', domainType };
    }
    const uuid = state === 'MISSING' ? domainUuid(instanceId) : (await this.virsh.run(['domuuid', domain])).trim();
    const xml = buildDomainXml({
      instanceId,
      volumePaths,
      domainType,
      uuid,
      ...(this.memoryMiB !== undefined ? { memoryMiB: this.memoryMiB } : {}),
      ...(this.cache !== undefined ? { cache: this.cache } : {}),
    });
    await this.define(xml);
    try {
      await this.virsh.run(['start', domain]);
    } catch (error) {
      if (error instanceof VirshError && /already running|already active/i.test(error.stderr)) {
        return { alreadyRunning: true, domainType };
      }
      if (error instanceof VirshError && /permission denied/i.test(error.stderr)) {
        const blocked = await untraversableFolders(volumePaths);
        if (blocked.length > 0) {
          throw new DriverError(
            `${error.message} (libvirt runs QEMU as libvirt-qemu, which cannot enter ${blocked.join(', ')}: ` +
              `every folder on the path to a volume must be traversable, e.g. chmod 0755)`,
          );
        }
      }
      throw error;
    }
    return { alreadyRunning: false, domainType };
  }

  /**
   * Asks the guest to power off (guest agent, else ACPI), polls until it is shut off, and destroys it after
   * `timeoutMs` (a guest without an OS ignores ACPI). A paused guest cannot react and is destroyed at once.
   * Stopped or undefined already is success. The definition (and its snapshot metadata) stays.
   */
  async stopInstance(instanceId: string, options: StopOptions): Promise<StopResult> {
    const domain = domainName(instanceId);
    const state = await this.instanceState(instanceId);
    if (state === 'STOPPED' || state === 'MISSING') return { alreadyStopped: true, forced: false };
    if (state === 'RUNNING') {
      try {
        await this.virsh.run(['shutdown', domain, '--mode', 'agent,acpi']);
      } catch (error) {
        if (!(error instanceof VirshError && error.domainNotRunning)) throw error;
      }
      const deadline = performance.now() + options.timeoutMs;
      for (;;) {
        const now = await this.instanceState(instanceId);
        if (now === 'STOPPED' || now === 'MISSING') return { alreadyStopped: false, forced: false };
        if (now !== 'RUNNING' || performance.now() >= deadline) break;
        await sleep(Math.min(this.pollIntervalMs, Math.max(1, deadline - performance.now())));
      }
    }
    await this.destroy(domain);
    return { alreadyStopped: false, forced: true };
  }

  /**
   * Undefines the instance's domain with its snapshot metadata (`virsh undefine --snapshots-metadata`; the
   * internal snapshots stay in the image files). Refused while the domain runs or is paused; a missing domain is
   * success with alreadyGone.
   */
  async undefineInstance(instanceId: string): Promise<{ alreadyGone: boolean }> {
    const domain = domainName(instanceId);
    const state = await this.instanceState(instanceId);
    if (state === 'MISSING') return { alreadyGone: true };
    if (state !== 'STOPPED') {
      throw new DriverError(`instance ${instanceId} is ${state.toLowerCase()}: stop it before it is destroyed`);
    }
    try {
      await this.virsh.run(['undefine', domain, '--snapshots-metadata']);
    } catch (error) {
      if (error instanceof VirshError && error.domainMissing) return { alreadyGone: true };
      throw error;
    }
    return { alreadyGone: false };
  }

  /** The instance's disks in target order, with their internal snapshot tags. */
  async listDisks(instanceId: string): Promise<DomainDisk[]> {
    const domain = domainName(instanceId);
    const state = await this.instanceState(instanceId);
    if (state === 'MISSING') throw new DriverError(`instance ${instanceId} has no libvirt domain`);
    return this.disks(domain, state === 'STOPPED');
  }

  /**
   * A live volume snapshot: QMP blockdev-snapshot-internal-sync on the disk's format node, tagged `tag`. See the
   * comment at the top. Throws InstanceNotRunningError when the domain is not running (take it offline then).
   */
  async snapshotRunningVolume(
    instanceId: string,
    volume: VolumeRef,
    tag: string,
    options: LiveSnapshotOptions = {},
  ): Promise<LiveSnapshotResult> {
    checkTag(tag, 'snapshot tag');
    const start = performance.now();
    const domain = await this.liveDomain(instanceId);
    const disk = await this.liveDisk(instanceId, domain, volume);
    const nodeName = disk.nodeName as string;
    if (disk.tags.includes(tag)) {
      // A repeated delivery. With quiesce, the tag exists only if the first try's freeze worked, so the snapshot
      // is quiesced; and that try may have died before its thaw: thaw once more (a no-op on a thawed guest).
      const quiesce = options.quiesce === true;
      if (quiesce) await this.thaw(domain).catch(() => undefined);
      return {
        alreadyExisted: true,
        quiesced: quiesce,
        guestPauseMs: 0,
        durationMs: elapsed(start),
        target: disk.target,
        nodeName,
      };
    }
    let alreadyExisted = false;
    const { quiesced, guestPauseMs } = await this.withQuiesce(instanceId, domain, options.quiesce === true, () =>
      this.qmpLive(instanceId, domain, 'blockdev-snapshot-internal-sync', { device: nodeName, name: tag }).then(
        (reply) => reply.commandMs,
        (error: unknown) => {
          if (error instanceof QmpError && /already exists/i.test(error.desc)) {
            alreadyExisted = true;
            return undefined;
          }
          throw error;
        },
      ),
    );
    const after = await this.liveDisk(instanceId, domain, disk.target);
    if (!after.tags.includes(tag)) {
      throw new DriverError(
        `QEMU reported success but disk ${disk.target} of instance ${instanceId} has no snapshot ${tag}`,
      );
    }
    return { alreadyExisted, quiesced, guestPauseMs, durationMs: elapsed(start), target: disk.target, nodeName };
  }

  /** Deletes a live volume snapshot (blockdev-snapshot-delete-internal-sync); a missing tag is alreadyGone. */
  async deleteRunningVolumeSnapshot(
    instanceId: string,
    volume: VolumeRef,
    tag: string,
  ): Promise<DeleteLiveSnapshotResult> {
    checkTag(tag, 'snapshot tag');
    const domain = await this.liveDomain(instanceId);
    const disk = await this.liveDisk(instanceId, domain, volume);
    if (!disk.tags.includes(tag)) return { alreadyGone: true };
    try {
      await this.qmpLive(instanceId, domain, 'blockdev-snapshot-delete-internal-sync', {
        device: disk.nodeName,
        name: tag,
      });
    } catch (error) {
      if (error instanceof QmpError && /does not exist/i.test(error.desc)) return { alreadyGone: true };
      throw error;
    }
    return { alreadyGone: false };
  }

  /** The internal snapshot tags of one disk of a running instance, as QEMU sees them. */
  async listRunningVolumeSnapshots(instanceId: string, volume: VolumeRef): Promise<string[]> {
    const domain = await this.liveDomain(instanceId);
    return (await this.liveDisk(instanceId, domain, volume)).tags;
  }

  /** Whether `name` is an instance snapshot of the instance, and of which kind. */
  async instanceSnapshotKind(instanceId: string, name: string): Promise<InstanceSnapshotKind | null> {
    checkTag(name, 'recovery point name');
    const domain = domainName(instanceId);
    const state = await this.instanceState(instanceId);
    if (state === 'MISSING') return null;
    if (await this.hasLibvirtSnapshot(domain, name)) return 'memory';
    const disks = await this.disks(domain, state === 'STOPPED');
    return disks.some((d) => d.tags.includes(name)) ? 'disk' : null;
  }

  /**
   * An instance snapshot: every disk of the instance at one instant, with memory (libvirt system checkpoint) or
   * without (one QMP transaction, or qemu-img on a stopped instance). An existing point is alreadyExisted.
   */
  async createInstanceSnapshot(
    instanceId: string,
    name: string,
    options: InstanceSnapshotOptions,
  ): Promise<InstanceSnapshotResult> {
    checkTag(name, 'recovery point name');
    const start = performance.now();
    const domain = domainName(instanceId);
    const state = await this.instanceState(instanceId);
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
      const { commandMs } = await this.virsh.runTimed(args);
      return done(false, false, commandMs);
    }

    if (await this.hasLibvirtSnapshot(domain, name)) {
      throw new DriverError(`recovery point ${name} of instance ${instanceId} exists already with memory`);
    }
    if (state === 'STOPPED') {
      for (const disk of await this.disks(domain, true)) {
        if (!disk.tags.includes(name)) await this.qemuImgRun(['snapshot', '-c', name, disk.path]);
      }
      return done(false, false, 0);
    }
    const disks = await this.disks(domain, false);
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
    const { quiesced, guestPauseMs } = await this.withQuiesce(instanceId, domain, options.quiesce === true, () =>
      this.qmpLive(instanceId, domain, 'transaction', { actions }).then((reply) => reply.commandMs),
    );
    const after = await this.disks(domain, false);
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
  async revertInstanceSnapshot(instanceId: string, name: string, options: RevertOptions): Promise<RevertResult> {
    checkTag(name, 'recovery point name');
    const domain = domainName(instanceId);
    const kind = await this.instanceSnapshotKind(instanceId, name);
    if (kind === null) throw new DriverError(`instance ${instanceId} has no recovery point ${name}`);
    if (kind === 'memory') {
      await this.virsh.run(['snapshot-revert', domain, name, options.state === 'running' ? '--running' : '--paused']);
      if (options.state === 'stopped') await this.destroy(domain);
      return { kind, state: await this.instanceState(instanceId) };
    }
    const state = await this.instanceState(instanceId);
    if (state !== 'STOPPED') {
      throw new UnsupportedOperationError(
        `recovery point ${name} has no memory: it can be reverted only while instance ${instanceId} is stopped ` +
          `(it is ${state}); QEMU cannot replace a running disk's contents under the guest`,
      );
    }
    const disks = await this.disks(domain, true);
    const missing = disks.filter((d) => !d.tags.includes(name)).map((d) => d.target);
    if (missing.length > 0) {
      throw new DriverError(`recovery point ${name} is missing on ${missing.join(', ')} of instance ${instanceId}`);
    }
    for (const disk of disks) await this.qemuImgRun(['snapshot', '-a', name, disk.path]);
    if (options.state !== 'stopped') {
      await this.virsh.run(options.state === 'paused' ? ['start', domain, '--paused'] : ['start', domain]);
    }
    return { kind, state: await this.instanceState(instanceId) };
  }

  /** Deletes an instance snapshot from libvirt's metadata and every disk; a missing one is alreadyGone. */
  async deleteInstanceSnapshot(instanceId: string, name: string): Promise<DeleteInstanceSnapshotResult> {
    checkTag(name, 'recovery point name');
    const domain = domainName(instanceId);
    const kind = await this.instanceSnapshotKind(instanceId, name);
    if (kind === null) return { alreadyGone: true, kind: null };
    if (kind === 'memory') {
      await this.virsh.run(['snapshot-delete', domain, name]);
      return { alreadyGone: false, kind };
    }
    const state = await this.instanceState(instanceId);
    const disks = await this.disks(domain, state === 'STOPPED');
    for (const disk of disks.filter((d) => d.tags.includes(name))) {
      if (state === 'STOPPED') {
        await this.qemuImgRun(['snapshot', '-d', name, disk.path]);
      } else {
        await this.qmpLive(instanceId, domain, 'blockdev-snapshot-delete-internal-sync', {
          device: disk.nodeName,
          name,
        });
      }
    }
    return { alreadyGone: false, kind };
  }

  // ---------------------------------------------------------------------------------------------------------

  /**
   * `virsh define` of a file in a private temporary folder (`define /dev/stdin` fails when stdin is a socket, as
   * Node's pipes are). The file is read by virsh, not by libvirtd, so the folder may stay 0700.
   */
  private async define(xml: string): Promise<void> {
    const folder = await mkdtemp(join(tmpdir(), 'snapdeck-domain-'));
    try {
      const file = join(folder, 'domain.xml');
      await writeFile(file, xml, { mode: 0o600 });
      await this.virsh.run(['define', file]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  private async destroy(domain: string): Promise<void> {
    try {
      await this.virsh.run(['destroy', domain]);
    } catch (error) {
      if (error instanceof VirshError && (error.domainNotRunning || error.domainMissing)) return;
      throw error;
    }
  }

  private async hasLibvirtSnapshot(domain: string, name: string): Promise<boolean> {
    const names = (await this.virsh.run(['snapshot-list', domain, '--name'])).split('\n').map((s) => s.trim());
    return names.includes(name);
  }

  /** The domain's name when it runs (or is paused: QEMU is there); else InstanceNotRunningError. */
  private async liveDomain(instanceId: string): Promise<string> {
    const state = await this.instanceState(instanceId);
    if (state !== 'RUNNING' && state !== 'PAUSED') throw new InstanceNotRunningError(instanceId, state);
    return domainName(instanceId);
  }

  private async qmpLive(
    instanceId: string,
    domain: string,
    command: string,
    args: Record<string, unknown>,
  ): Promise<{ value: unknown; commandMs: number }> {
    try {
      return await this.virsh.qmpTimed(domain, command, args);
    } catch (error) {
      if (error instanceof VirshError && (error.domainNotRunning || error.domainMissing)) {
        throw new InstanceNotRunningError(instanceId, error.domainMissing ? 'MISSING' : 'STOPPED');
      }
      throw error;
    }
  }

  private async liveDisk(instanceId: string, domain: string, volume: VolumeRef): Promise<DomainDisk> {
    const disks = await this.disks(domain, false);
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
  private async disks(domain: string, inactive: boolean): Promise<DomainDisk[]> {
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

  private async imageTags(path: string): Promise<string[]> {
    const json = await this.qemuImgRun(['info', '-U', '-f', 'qcow2', '--output=json', path]);
    const info = JSON.parse(json) as { snapshots?: { name: string }[] };
    return (info.snapshots ?? []).map((s) => s.name);
  }

  private async qemuImgRun(args: string[]): Promise<string> {
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

  /**
   * Runs `take` with the guest's file systems frozen when asked: freeze first (a guest agent that does not
   * answer is a QuiesceError and `take` is not run), thaw always. `take` resolves with its QEMU command's
   * duration (virsh -t); the guest's pause is that, or freeze → thaw when quiesced.
   */
  private async withQuiesce(
    instanceId: string,
    domain: string,
    quiesce: boolean,
    take: () => Promise<number | undefined>,
  ): Promise<{ quiesced: boolean; guestPauseMs: number }> {
    if (!quiesce) {
      const t0 = performance.now();
      const commandMs = await take();
      return {
        quiesced: false,
        guestPauseMs: commandMs !== undefined && Number.isFinite(commandMs) ? commandMs : elapsed(t0),
      };
    }
    const t0 = performance.now();
    try {
      await this.virsh.run(['domfsfreeze', domain], { timeoutMs: 60_000 });
    } catch (error) {
      // A freeze that failed half-way may still have frozen something: one thaw, its answer does not matter.
      await this.virsh.run(['domfsthaw', domain]).catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      if (/agent/i.test(reason)) {
        throw new QuiesceError(
          `quiesce requested but the QEMU guest agent of instance ${instanceId} does not answer (${reason}); no snapshot was taken`,
        );
      }
      throw new QuiesceError(`quiesce of instance ${instanceId} failed (${reason}); no snapshot was taken`);
    }
    // Thaw always, whether the snapshot worked or not; the snapshot's own error matters more than thaw's.
    let taken = false;
    let takeError: unknown;
    try {
      await take();
      taken = true;
    } catch (error) {
      takeError = error;
    }
    let thawError: string | undefined;
    await this.thaw(domain).catch((error: unknown) => {
      thawError = error instanceof Error ? error.message : JSON.stringify(error);
    });
    if (!taken) throw takeError;
    if (thawError !== undefined) {
      const reason = thawError;
      throw new DriverError(
        `the snapshot of instance ${instanceId} was taken but its file systems could not be thawed: ${reason}`,
        true,
      );
    }
    return { quiesced: true, guestPauseMs: elapsed(t0) };
  }

  private async thaw(domain: string): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.virsh.run(['domfsthaw', domain], { timeoutMs: 60_000 });
        return;
      } catch (error) {
        lastError = error;
        await sleep(200);
      }
    }
    throw lastError;
  }
}

/** The folders on the way to these files that others (libvirt-qemu) cannot enter. */
async function untraversableFolders(paths: readonly string[]): Promise<string[]> {
  const blocked = new Set<string>();
  for (const path of paths) {
    let dir = dirname(path);
    for (;;) {
      const info = await stat(dir).catch(() => null);
      if (info && (info.mode & 0o001) === 0) blocked.add(`${dir} (mode 0${(info.mode & 0o777).toString(8)})`);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return [...blocked];
}
