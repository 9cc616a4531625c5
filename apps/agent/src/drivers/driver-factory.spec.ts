import { AgentConfig } from '@snapdeck/config';
import { createVolumeDriver, LIBVIRT_UNAVAILABLE } from './driver-factory.js';
import { QemuImgDriver } from './qemu-img/qemu-img.driver.js';
import { SimulatorDriver } from './simulator/simulator.driver.js';

function config(overrides: Partial<AgentConfig>): AgentConfig {
  return Object.assign(new AgentConfig(), overrides);
}

describe('createVolumeDriver', () => {
  it('builds the qemu-img driver on AGENT_STORAGE_DIR/volumes and SECONDARY_STORAGE_DIR', () => {
    const driver = createVolumeDriver(
      config({ AGENT_DRIVER: 'qemu-img', AGENT_STORAGE_DIR: '/srv/primary', SECONDARY_STORAGE_DIR: '/mnt/secondary' }),
    );
    expect(driver).toBeInstanceOf(QemuImgDriver);
    expect((driver as QemuImgDriver).volumesDir).toBe('/srv/primary/volumes');
    expect((driver as QemuImgDriver).secondary.root).toBe('/mnt/secondary');
  });

  it('builds the simulator driver', () => {
    expect(createVolumeDriver(config({ AGENT_DRIVER: 'simulator' }))).toBeInstanceOf(SimulatorDriver);
  });

  it('refuses the libvirt driver with a message saying it is not available in this version', () => {
    expect(() => createVolumeDriver(config({ AGENT_DRIVER: 'libvirt' }))).toThrow(LIBVIRT_UNAVAILABLE);
    expect(LIBVIRT_UNAVAILABLE).toContain('libvirt driver is not available in this version');
  });
});
