import type { AgentConfig } from '@snapdeck/config';
import { assertUnreachable } from '@snapdeck/domain';
import { LibvirtDriver } from './libvirt-driver.js';
import { QemuImgDriver } from './qemu-img/qemu-img.driver.js';
import { SimulatorDriver } from './simulator/simulator.driver.js';
import type { VolumeDriver } from './volume-driver.js';

/** Picks the driver named by AGENT_DRIVER; one that cannot work stops the agent at start-up (its init), not at the first job. */
export function createVolumeDriver(config: AgentConfig): VolumeDriver {
  const driver = config.AGENT_DRIVER;
  switch (driver) {
    case 'qemu-img':
      return new QemuImgDriver({
        storageDir: config.AGENT_STORAGE_DIR,
        secondaryDir: config.SECONDARY_STORAGE_DIR,
        secondaryReadTimeoutMs: config.AGENT_SECONDARY_READ_TIMEOUT_SECONDS * 1000,
      });
    case 'simulator':
      return new SimulatorDriver({
        latencyMs: config.SIMULATOR_LATENCY_MS,
        failureRate: config.SIMULATOR_FAILURE_RATE,
      });
    case 'libvirt':
      return new LibvirtDriver({
        storageDir: config.AGENT_STORAGE_DIR,
        secondaryDir: config.SECONDARY_STORAGE_DIR,
        secondaryReadTimeoutMs: config.AGENT_SECONDARY_READ_TIMEOUT_SECONDS * 1000,
        uri: config.AGENT_LIBVIRT_URI,
      });
    default:
      return assertUnreachable(driver);
  }
}
