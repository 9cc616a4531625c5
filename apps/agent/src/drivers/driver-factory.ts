import type { AgentConfig } from '@snapdeck/config';
import { assertUnreachable } from '@snapdeck/domain';
import { AgentDrivers } from './agent-drivers.js';
import { LibvirtDriver } from './libvirt/libvirt-driver.js';
import { QemuImgDriver } from './qemu-img/qemu-img.driver.js';
import { SimulatorDriver } from './simulator/simulator.driver.js';

/**
 * Picks the driver named by AGENT_DRIVER and gives out the ports it implements: volumes on every node, instances
 * only where there is a hypervisor (libvirt, simulator). One that cannot work stops the agent at start-up (its
 * init), not at the first job.
 */
export function createDrivers(config: AgentConfig): AgentDrivers {
  const driver = config.AGENT_DRIVER;
  switch (driver) {
    case 'qemu-img':
      return new AgentDrivers(
        new QemuImgDriver({
          storageDir: config.AGENT_STORAGE_DIR,
          secondaryDir: config.SECONDARY_STORAGE_DIR,
          secondaryReadTimeoutMs: config.AGENT_SECONDARY_READ_TIMEOUT_SECONDS * 1000,
        }),
      );
    case 'simulator': {
      const simulator = new SimulatorDriver({
        latencyMs: config.SIMULATOR_LATENCY_MS,
        failureRate: config.SIMULATOR_FAILURE_RATE,
      });
      return new AgentDrivers(simulator, simulator);
    }
    case 'libvirt': {
      const libvirt = new LibvirtDriver({
        storageDir: config.AGENT_STORAGE_DIR,
        secondaryDir: config.SECONDARY_STORAGE_DIR,
        secondaryReadTimeoutMs: config.AGENT_SECONDARY_READ_TIMEOUT_SECONDS * 1000,
        uri: config.AGENT_LIBVIRT_URI,
      });
      return new AgentDrivers(libvirt, libvirt);
    }
    default:
      return assertUnreachable(driver);
  }
}
