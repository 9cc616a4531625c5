import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JobFailureReason } from '@snapdeck/contracts';
import { describeWith } from '@snapdeck/testing';
import { RepairStorageHandler } from '../../handlers/repair-storage.handler.js';
import { SnapshotSlots } from '../../jobs/snapshot-slots.js';
import { failure } from '../qemu-img/driver-assertions.test-support.js';
import { LibvirtDriver } from './libvirt-driver.js';
import { LibvirtHypervisor } from './libvirt-hypervisor.js';

const run = promisify(execFile);
const URI = 'qemu:///system';
const SLOW = 240_000;

/*
 * The storage audit's agent side against a real libvirtd (domains of type qemu, no guest OS): a running domain's
 * disks are listed in use and checked read-only with -U; preflight refuses a snapshot missing on disk with a
 * reason; a repair removes an orphan tag live from a running disk.
 */

async function traversableTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

async function tags(path: string): Promise<string[]> {
  const { stdout } = await run('qemu-img', ['info', '-U', '-f', 'qcow2', '--output=json', path]);
  return ((JSON.parse(stdout) as { snapshots?: { name: string }[] }).snapshots ?? []).map((s) => s.name);
}

describeWith(['libvirt', 'qemu-img'], 'storage audit with the libvirt driver on a real libvirtd', () => {
  let primary: string;
  let secondary: string;
  let driver: LibvirtDriver;
  const hypervisor = new LibvirtHypervisor({ uri: URI, domainType: 'qemu', pollIntervalMs: 100 });
  const instanceId = randomUUID();
  const root = randomUUID();
  const data = randomUUID();
  const instance = { instanceId, volumeIds: [root, data] };

  beforeAll(async () => {
    primary = await traversableTempDir('snapdeck-libvirt-audit-');
    secondary = await traversableTempDir('snapdeck-libvirt-audit-secondary-');
    await mkdir(join(secondary, 'transfers'));
    driver = new LibvirtDriver({ storageDir: primary, secondaryDir: secondary, uri: URI, hypervisor });
    await driver.init();
    for (const id of instance.volumeIds) await driver.createVolume(id, 1);
  });

  afterAll(async () => {
    await run('virsh', ['-c', URI, 'destroy', `i-${instanceId}`]).catch(() => undefined);
    await run('virsh', ['-c', URI, 'undefine', `i-${instanceId}`, '--snapshots-metadata']).catch(() => undefined);
    if (primary) await rm(primary, { recursive: true, force: true });
    if (secondary) await rm(secondary, { recursive: true, force: true });
  });

  it(
    'lists a running domain’s disks in use (checked with -U), refuses missing tags with a reason, repairs a tag live',
    async () => {
      const offline = randomUUID();
      await driver.createVolume(offline, 1);
      await driver.startInstance(instance);
      const snapshotId = randomUUID();
      await driver.createSnapshot(root, snapshotId, { instanceId });

      const { images } = await driver.inventory({ checkTimeoutMs: 30_000 });

      const byId = new Map(images.map((i) => [i.id, i]));
      expect(byId.get(root)).toMatchObject({
        inUse: true,
        tags: [expect.objectContaining({ tag: snapshotId, vmStateBytes: 0 })],
        check: { status: 'clean' },
      });
      expect(byId.get(data)).toMatchObject({ inUse: true, tags: [], check: { status: 'clean' } });
      expect(byId.get(offline)).toMatchObject({ inUse: false, check: { status: 'clean' } });

      // A snapshot missing on a running disk: export and clone read it with -U, and refuse first.
      const missing = randomUUID();
      const text = `snapshot ${missing} is missing from volume ${root} on disk`;
      const exported = await failure(driver.exportSnapshot(root, missing, `transfers/${randomUUID()}.qcow2`));
      const cloned = await failure(
        driver.createVolume(randomUUID(), 1, { kind: 'snapshot', volumeId: root, snapshotId: missing }),
      );
      for (const error of [exported, cloned]) {
        expect(error.message).toContain(text);
        expect(error.reason).toBe(JobFailureReason.SNAPSHOT_MISSING);
      }

      // An orphan tag on the running disk goes live, through the same operation as a delete.
      const report = await new RepairStorageHandler(driver, new SnapshotSlots(2)).handle({
        tags: [{ volumeId: root, tag: snapshotId, instanceId }],
        volumeIds: [],
        templateIds: [],
        transferPaths: [],
      });
      expect(report).toMatchObject({ ok: true, data: { removed: [`tag:${root}/${snapshotId}`], failed: [] } });
      expect(await tags(driver.files.volumePath(root))).toEqual([]);

      // Stopped: the revert of the offline volume refuses the missing tag the same way, and so does a recovery point.
      await driver.stopInstance(instance, 0);
      const revert = await failure(driver.revertSnapshot(root, missing));
      expect(revert.reason).toBe(JobFailureReason.SNAPSHOT_MISSING);
      expect(revert.message).toContain(text);
      const point = randomUUID();
      await driver.createInstanceSnapshot(instance, point, { withMemory: false, quiesce: false });
      await run('qemu-img', ['snapshot', '-d', point, driver.files.volumePath(data)]);
      const pointRevert = await failure(driver.revertInstanceSnapshot(instance, point, false));
      expect(pointRevert.reason).toBe(JobFailureReason.SNAPSHOT_MISSING);
      expect(pointRevert.message).toContain(`recovery point ${point} is missing from volume ${data} on disk`);
    },
    SLOW,
  );
});
