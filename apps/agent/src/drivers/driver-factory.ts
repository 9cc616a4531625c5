import type { AgentConfig } from '@snapdeck/config';
import { assertUnreachable } from '@snapdeck/domain';
import { QemuImgDriver } from './qemu-img/qemu-img.driver.js';
import { SimulatorDriver } from './simulator/simulator.driver.js';
import type { VolumeDriver } from './volume-driver.js';

export const LIBVIRT_UNAVAILABLE =
  'The libvirt driver is not available in this version of the Snapdeck agent; ' +
  'set AGENT_DRIVER to qemu-img (stopped instances) or simulator';

/** Picks the driver named by AGENT_DRIVER; an unavailable one stops the agent at start-up, not at the first job. */
export function createVolumeDriver(config: AgentConfig): VolumeDriver {
  const driver = config.AGENT_DRIVER;
  switch (driver) {
    case 'qemu-img':
      return new QemuImgDriver({
        storageDir: config.AGENT_STORAGE_DIR,
        secondaryDir: config.SECONDARY_STORAGE_DIR,
      });
    case 'simulator':
      return new SimulatorDriver({
        latencyMs: config.SIMULATOR_LATENCY_MS,
        failureRate: config.SIMULATOR_FAILURE_RATE,
      });
    case 'libvirt':
      throw new Error(LIBVIRT_UNAVAILABLE);
    default:
      return assertUnreachable(driver);
  }
}
