import { AgentConfig } from '@snapdeck/config';
import { randomUUID } from 'node:crypto';
import { createVolumeDriver } from './driver-factory.js';
import { LibvirtDriver } from './libvirt-driver.js';
import { QemuImgDriver } from './qemu-img/qemu-img.driver.js';
import { SimulatorDriver } from './simulator/simulator.driver.js';
import { DriverError } from './volume-driver.js';

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

  it('builds the libvirt driver on AGENT_LIBVIRT_URI, with the qemu-img layout for the files', () => {
    const driver = createVolumeDriver(
      config({
        AGENT_DRIVER: 'libvirt',
        AGENT_LIBVIRT_URI: 'qemu+ssh://root@kvm-7/system',
        AGENT_STORAGE_DIR: '/srv/primary',
        SECONDARY_STORAGE_DIR: '/mnt/secondary',
      }),
    );
    expect(driver).toBeInstanceOf(LibvirtDriver);
    const libvirt = driver as LibvirtDriver;
    expect(libvirt.hypervisor.virsh.uri).toBe('qemu+ssh://root@kvm-7/system');
    expect(libvirt.files.volumesDir).toBe('/srv/primary/volumes');
    expect(libvirt.files.secondary.root).toBe('/mnt/secondary');
  });

  it('gives the qemu-img driver no instances, and no quiesce, saying what to set instead', async () => {
    const driver = createVolumeDriver(config({ AGENT_DRIVER: 'qemu-img', AGENT_STORAGE_DIR: '/nonexistent' }));
    const instance = { instanceId: randomUUID(), volumeIds: [randomUUID()] };
    const refusal =
      'the qemu-img driver cannot run instances: set AGENT_DRIVER=libvirt on KVM nodes (simulator for tests)';
    await expect(driver.startInstance(instance)).rejects.toThrow(new DriverError(refusal));
    await expect(driver.stopInstance(instance, 10)).rejects.toThrow(refusal);
    await expect(
      driver.createRecoveryPoint(instance, randomUUID(), { withMemory: false, quiesce: false }),
    ).rejects.toThrow(refusal);
    await expect(driver.revertRecoveryPoint(instance, randomUUID(), true)).rejects.toThrow(refusal);
    await expect(driver.deleteRecoveryPoint(instance, randomUUID())).rejects.toThrow(refusal);
    await expect(driver.createSnapshot(randomUUID(), randomUUID(), { quiesce: true })).rejects.toThrow(
      'quiesce was requested, but the qemu-img driver has no running guest to freeze',
    );
  });
});
