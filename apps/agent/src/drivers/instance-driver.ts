import type { InstanceDisks, StartInstancePayload } from '@snapdeck/contracts';
import type { RemoveResult } from './volume-driver.js';

export interface StartInstanceResult {
  /** The instance was running already (a repeated delivery): nothing was changed. */
  alreadyRunning: boolean;
}

export interface StopInstanceResult {
  /** The instance was stopped already (or never started): nothing was changed. */
  alreadyStopped: boolean;
  /** The guest did not power off within the timeout and was powered off by force. */
  forced: boolean;
}

export interface CreateInstanceSnapshotOptions {
  /** Save the guest's memory and devices too (a running instance only): a revert resumes the guest as it was. */
  withMemory: boolean;
  /** Freeze the guest's file systems around a disk-only snapshot; fail, taking nothing, when they cannot be. */
  quiesce: boolean;
}

export interface CreateInstanceSnapshotResult {
  alreadyExisted: boolean;
  quiesced: boolean;
  /** The definition libvirt recorded (`virsh snapshot-dumpxml`), for a point libvirt made (with memory). */
  snapshotXml?: string;
}

export interface RevertInstanceSnapshotResult {
  /** The instance runs after the revert. */
  running: boolean;
}

/**
 * The instance port: what the agent needs from a hypervisor to run instances and take instance snapshots (every
 * disk at one instant). Only a driver with a hypervisor implements it (libvirt, and the simulator for tests); a
 * node whose driver has none (qemu-img) answers instance jobs with `cannotRunInstances` (see `AgentDrivers`).
 * An instance is named by its id and its volumes in disk order (ROOT = vda first); nothing about it is stored by
 * the agent. Every mutating operation is idempotent, as on the volume port.
 *
 * An abstract class rather than an interface so that a driver can `implements` it beside `extends VolumeDriver`.
 */
export abstract class InstanceDriver {
  /** Starts the instance on these disks; running already is success with alreadyRunning. */
  abstract startInstance(instance: StartInstancePayload): Promise<StartInstanceResult>;

  /** Asks the guest to power off, forced after `timeoutSeconds`; stopped already is success with alreadyStopped. */
  abstract stopInstance(instance: InstanceDisks, timeoutSeconds: number): Promise<StopInstanceResult>;

  /** An instance snapshot: every disk at one instant (and the memory when asked); existing is alreadyExisted. */
  abstract createInstanceSnapshot(
    instance: InstanceDisks,
    instanceSnapshotId: string,
    options: CreateInstanceSnapshotOptions,
  ): Promise<CreateInstanceSnapshotResult>;

  /** Brings every disk (and the memory, if saved) back to the snapshot; running afterwards only if `startAfter`. */
  abstract revertInstanceSnapshot(
    instance: InstanceDisks,
    instanceSnapshotId: string,
    startAfter: boolean,
  ): Promise<RevertInstanceSnapshotResult>;

  /** Removes an instance snapshot from every disk; a missing one is success with alreadyGone. */
  abstract deleteInstanceSnapshot(instance: InstanceDisks, instanceSnapshotId: string): Promise<RemoveResult>;

  /**
   * Forgets what the hypervisor keeps of a destroyed instance (libvirt: its domain and the domain's snapshot
   * metadata), before its volumes are removed; refused while the instance runs. One never defined is success with
   * alreadyGone. A driver that keeps nothing about instances (the simulator) has nothing to do.
   */
  abstract forgetInstance(instanceId: string): Promise<RemoveResult>;
}
