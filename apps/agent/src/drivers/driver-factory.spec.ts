import { AgentConfig } from '@snapdeck/config';
import { randomUUID } from 'node:crypto';
import { createDrivers } from './driver-factory.js';
import { LibvirtDriver } from './libvirt/libvirt-driver.js';
import { QemuImgDriver } from './qemu-img/qemu-img.driver.js';
import { SimulatorDriver } from './simulator/simulator.driver.js';
import { DriverError } from './volume-driver.js';

function config(overrides: Partial<AgentConfig>): AgentConfig {
  return Object.assign(new AgentConfig(), overrides);
}

describe('createDrivers', () => {
  it('builds the qemu-img driver on AGENT_STORAGE_DIR/volumes and SECONDARY_STORAGE_DIR, with no instance port', () => {
    const drivers = createDrivers(
      config({ AGENT_DRIVER: 'qemu-img', AGENT_STORAGE_DIR: '/srv/primary', SECONDARY_STORAGE_DIR: '/mnt/secondary' }),
    );
    expect(drivers.volumes).toBeInstanceOf(QemuImgDriver);
    expect((drivers.volumes as QemuImgDriver).volumesDir).toBe('/srv/primary/volumes');
    expect((drivers.volumes as QemuImgDriver).secondary.root).toBe('/mnt/secondary');
    expect(drivers.instances).toBeUndefined();
    // The volume port has no instance operations left to stub.
    expect('startInstance' in drivers.volumes).toBe(false);
  });

  it('builds the simulator driver, for both ports', () => {
    const drivers = createDrivers(config({ AGENT_DRIVER: 'simulator' }));
    expect(drivers.volumes).toBeInstanceOf(SimulatorDriver);
    expect(drivers.instanceDriver()).toBe(drivers.volumes);
  });

  it('builds the libvirt driver on AGENT_LIBVIRT_URI, with the qemu-img layout for the files, for both ports', () => {
    const drivers = createDrivers(
      config({
        AGENT_DRIVER: 'libvirt',
        AGENT_LIBVIRT_URI: 'qemu+ssh://root@kvm-7/system',
        AGENT_STORAGE_DIR: '/srv/primary',
        SECONDARY_STORAGE_DIR: '/mnt/secondary',
      }),
    );
    expect(drivers.volumes).toBeInstanceOf(LibvirtDriver);
    expect(drivers.instanceDriver()).toBe(drivers.volumes);
    const libvirt = drivers.volumes as LibvirtDriver;
    expect(libvirt.hypervisor.virsh.uri).toBe('qemu+ssh://root@kvm-7/system');
    expect(libvirt.files.volumesDir).toBe('/srv/primary/volumes');
    expect(libvirt.files.secondary.root).toBe('/mnt/secondary');
  });

  it('gives the qemu-img node no instances, and no quiesce, saying what to set instead', async () => {
    const drivers = createDrivers(config({ AGENT_DRIVER: 'qemu-img', AGENT_STORAGE_DIR: '/nonexistent' }));
    const refusal =
      'the qemu-img driver cannot run instances: set AGENT_DRIVER=libvirt on KVM nodes (simulator for tests)';
    expect(() => drivers.instanceDriver()).toThrow(new DriverError(refusal));
    expect(() => drivers.instanceDriver()).toThrow(DriverError);
    await expect(drivers.volumes.createSnapshot(randomUUID(), randomUUID(), { quiesce: true })).rejects.toThrow(
      'quiesce was requested, but the qemu-img driver has no running guest to freeze',
    );
  });
});
