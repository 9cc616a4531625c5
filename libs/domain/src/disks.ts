import { VolumeType } from './enums.js';

/** The most data disks an instance may have (virtio slots besides ROOT): createInstance and attaching stop there. */
export const MAX_DATA_DISKS = 15;

/** The virtio device of the disk at `index` in disk order: vda (ROOT), vdb, vdc… (libvirt's target dev). */
export function diskDevice(index: number): string {
  return `vd${String.fromCharCode(97 + index)}`;
}

/**
 * The order in which an instance's volumes are its disks: ROOT first (vda), then the data disks by name, with
 * numbers compared as numbers (DATA-2 before DATA-10), ties broken by id. Every job that names an instance's
 * disks sends them in this order, so a domain is defined the same way each time.
 */
export function diskOrder<V extends { id: string; name: string; type: VolumeType }>(volumes: readonly V[]): V[] {
  const collator = new Intl.Collator('en', { numeric: true });
  return [...volumes].sort(
    (a, b) =>
      Number(b.type === VolumeType.ROOT) - Number(a.type === VolumeType.ROOT) ||
      collator.compare(a.name, b.name) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
