import type { InstanceDriver } from './instance-driver.js';
import { cannotRunInstances, DriverError, type VolumeDriver } from './volume-driver.js';

/**
 * The ports of this node's driver: volumes always, instances only when the driver has a hypervisor. The Nest
 * token through which handlers ask for the port they need.
 */
export class AgentDrivers {
  constructor(
    readonly volumes: VolumeDriver,
    /** Absent on a node whose driver cannot run instances (qemu-img). */
    readonly instances?: InstanceDriver,
  ) {}

  /** The instance port; on a node without one, a DriverError saying what to set instead (a failed job, not a bug). */
  instanceDriver(): InstanceDriver {
    if (this.instances === undefined) throw new DriverError(cannotRunInstances(this.volumes.name));
    return this.instances;
  }
}
