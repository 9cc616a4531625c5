/**
 * The vCPUs and memory an instance's domain is defined with. createInstance and deployInstance take them; a clone,
 * an instance from a snapshot and a backup restored into a new instance keep their source's.
 */
export interface InstanceSize {
  cpuCount: number;
  memoryMiB: number;
}

export const DEFAULT_INSTANCE_SIZE: InstanceSize = { cpuCount: 1, memoryMiB: 512 };

/** Within what the agent's domain definition accepts (apps/agent/src/drivers/libvirt/domain-xml.ts). */
export const MAX_CPU_COUNT = 64;
export const MIN_MEMORY_MIB = 64;
export const MAX_MEMORY_MIB = 65536;
