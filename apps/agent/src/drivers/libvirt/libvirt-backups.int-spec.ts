import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  backupFolder,
  type BackupModeName,
  type BackupStorageLocation,
  type CreateBackupPayload,
} from '@snapdeck/contracts';
import { describeWith } from '@snapdeck/testing';
import { BackupJournal } from './backup-journal.js';
import { LibvirtDriver } from './libvirt-driver.js';
import { LibvirtHypervisor } from './libvirt-hypervisor.js';
import { backupPointTag } from './live-backups.js';

const run = promisify(execFile);
const URI = 'qemu:///system';
const SLOW = 240_000;
const MIB = 1024 ** 2;

/*
 * Backups of running libvirt domains (type qemu, no guest OS, so no guest agent and no ACPI: STOP is forced after
 * the driver's stop timeout). A guest's writes are HMP qemu-io on the disk's device; restored data is checked with
 * qemu-io on the restored volume's file (exit 1 when it differs).
 */

async function traversableTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

async function holds(path: string, pattern: string, offset = 0, length = MIB): Promise<boolean> {
  try {
    await run('qemu-io', ['-f', 'qcow2', '-c', `read -P ${pattern} ${offset} ${length}`, path]);
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 1) return false;
    throw error;
  }
}

async function tags(path: string): Promise<string[]> {
  const { stdout } = await run('qemu-img', ['info', '-U', '-f', 'qcow2', '--output=json', path]);
  return ((JSON.parse(stdout) as { snapshots?: { name: string }[] }).snapshots ?? []).map((s) => s.name);
}

async function checkClean(file: string): Promise<boolean> {
  try {
    await run('qemu-img', ['check', '-f', 'qcow2', file]);
    return true;
  } catch {
    return false;
  }
}

describeWith(['libvirt', 'qemu-img'], 'LibvirtDriver backups of running instances on a real libvirtd', () => {
  let primary: string;
  let secondary: string;
  let driver: LibvirtDriver;
  const hypervisor = new LibvirtHypervisor({ uri: URI, domainType: 'qemu', pollIntervalMs: 100 });
  const instances: string[] = [];
  const organizationId = randomUUID();

  beforeAll(async () => {
    primary = await traversableTempDir('backup-agent-libvirt-');
    secondary = await traversableTempDir('backup-agent-libvirt-secondary-');
    driver = new LibvirtDriver({
      storageDir: primary,
      secondaryDir: secondary,
      uri: URI,
      hypervisor,
      backupStopTimeoutMs: 1500,
    });
    await driver.init();
  });

  afterAll(async () => {
    for (const id of instances) {
      await run('virsh', ['-c', URI, 'destroy', `i-${id}`]).catch(() => undefined);
      await run('virsh', ['-c', URI, 'undefine', `i-${id}`, '--snapshots-metadata']).catch(() => undefined);
    }
    if (primary) await rm(primary, { recursive: true, force: true });
    if (secondary) await rm(secondary, { recursive: true, force: true });
  });

  /** A running instance of a ROOT and a DATA volume (1 GiB each), the guest having written a pattern on each. */
  async function runningInstance() {
    const instance = { instanceId: randomUUID(), volumeIds: [randomUUID(), randomUUID()] };
    instances.push(instance.instanceId);
    for (const id of instance.volumeIds) await driver.createVolume(id, 1);
    await driver.startInstance(instance);
    const domain = `i-${instance.instanceId}`;
    await guestWrite(domain, 0, '0xab');
    await guestWrite(domain, 1, '0xcd');
    return { instance, domain, root: instance.volumeIds[0] as string, data: instance.volumeIds[1] as string };
  }

  async function guestWrite(domain: string, disk: number, pattern: string, length = '1M'): Promise<void> {
    const device = `/machine/peripheral/virtio-disk${disk}/virtio-backend`;
    await hypervisor.virsh.hmp(domain, `qemu-io -d ${device} "write -P ${pattern} 0 ${length}"`);
  }

  function payloadFor(
    instance: { instanceId: string; volumeIds: string[] },
    mode: BackupModeName,
    storage: BackupStorageLocation = { root: 'secondary', path: 'backups' },
    compression: CreateBackupPayload['compression'] = 'ZSTD',
  ): CreateBackupPayload {
    const backupId = randomUUID();
    return {
      backupId,
      storage,
      folder: backupFolder(organizationId, backupId),
      organizationId,
      instanceId: instance.instanceId,
      instanceName: 'vm',
      mode,
      compression,
      quiesce: false,
      volumes: instance.volumeIds.map((volumeId, i) => ({
        volumeId,
        name: `disk-${i}`,
        type: i === 0 ? ('ROOT' as const) : ('DATADISK' as const),
        sizeGiB: 1,
      })),
      probeTimeoutSeconds: 10,
    };
  }

  const state = (instanceId: string) => hypervisor.domains.instanceState(instanceId);

  it.each(['SUSPEND', 'STOP', 'SNAPSHOT'] as const)(
    '%s: backs a running instance up, leaves it running, and the restore holds what the guest wrote before',
    async (mode) => {
      const { instance, domain, root, data } = await runningInstance();
      const payload = payloadFor(instance, mode);
      const result = await driver.createBackup(payload);
      // The guest writes on after the backup: the restore must hold the data from before.
      await guestWrite(domain, 0, '0xee');
      expect(await state(instance.instanceId)).toBe('RUNNING');
      expect(result).toMatchObject({ alreadyExisted: false, instanceRunning: true });
      expect(result.guestPausedMs).toEqual(expect.any(Number));
      expect(result.manifest).toMatchObject({ mode, instanceWasRunning: true, quiesced: false });
      const dir = join(secondary, 'backups', payload.folder);
      for (const id of instance.volumeIds) expect(await checkClean(join(dir, `${id}.qcow2`))).toBe(true);
      // No temporary point is left on the disks.
      for (const id of instance.volumeIds) expect(await tags(driver.files.volumePath(id))).toEqual([]);
      expect(await new BackupJournal(primary).list()).toEqual([]);

      const [newRoot, newData] = [randomUUID(), randomUUID()];
      await driver.restoreBackup({
        chain: [{ backupId: payload.backupId, storage: payload.storage, folder: payload.folder }],
        instanceId: randomUUID(),
        targets: [
          { sourceVolumeId: root, volumeId: newRoot, sizeGiB: 1 },
          { sourceVolumeId: data, volumeId: newData, sizeGiB: 1 },
        ],
        overwrite: false,
        probeTimeoutSeconds: 10,
      });
      expect(await holds(driver.files.volumePath(newRoot), '0xab')).toBe(true);
      expect(await holds(driver.files.volumePath(newData), '0xcd')).toBe(true);
      expect(await checkClean(driver.files.volumePath(newRoot))).toBe(true);

      expect(await driver.createBackup(payload)).toMatchObject({ alreadyExisted: true, instanceRunning: true });
      // Over the running instance's own volumes: refused, nothing written.
      await expect(
        driver.restoreBackup({
          chain: [{ backupId: payload.backupId, storage: payload.storage, folder: payload.folder }],
          instanceId: instance.instanceId,
          targets: [{ sourceVolumeId: root, volumeId: root, sizeGiB: 1 }],
          overwrite: true,
          probeTimeoutSeconds: 10,
        }),
      ).rejects.toThrow(`it is a disk of running instance ${instance.instanceId}`);
      console.log(`${mode} backup of a running instance: guest paused ${result.guestPausedMs} ms`);
    },
    SLOW,
  );

  it.each(['SNAPSHOT', 'SUSPEND'] as const)(
    '%s: an incremental of a running instance holds only the change, and restores to its state',
    async (mode) => {
      const { instance, domain, root, data } = await runningInstance();
      const full = payloadFor(instance, mode);
      await driver.createBackup(full);
      await guestWrite(domain, 0, '0x5e');
      const parent = { backupId: full.backupId, storage: full.storage, folder: full.folder };
      const incremental = { ...payloadFor(instance, mode), parent };
      const result = await driver.createBackup(incremental);
      expect(await state(instance.instanceId)).toBe('RUNNING');
      expect(result.manifest).toMatchObject({ incremental: true, parentBackupId: full.backupId });
      expect(result.manifest.volumes.map((v) => v.backingFile)).toEqual(
        instance.volumeIds.map((id) => `../${full.backupId}/${id}.qcow2`),
      );
      for (const id of instance.volumeIds) expect(await tags(driver.files.volumePath(id))).toEqual([]);
      const dir = join(secondary, 'backups', incremental.folder);
      expect((await readdir(dir)).sort()).toEqual(
        ['manifest.json', ...instance.volumeIds.map((id) => `${id}.qcow2`)].sort(),
      );
      const [newRoot, newData] = [randomUUID(), randomUUID()];
      await driver.restoreBackup({
        chain: [{ backupId: incremental.backupId, storage: incremental.storage, folder: incremental.folder }, parent],
        instanceId: randomUUID(),
        targets: [
          { sourceVolumeId: root, volumeId: newRoot, sizeGiB: 1 },
          { sourceVolumeId: data, volumeId: newData, sizeGiB: 1 },
        ],
        overwrite: false,
        probeTimeoutSeconds: 10,
      });
      expect(await holds(driver.files.volumePath(newRoot), '0x5e')).toBe(true);
      expect(await holds(driver.files.volumePath(newData), '0xcd')).toBe(true);
    },
    SLOW,
  );

  it(
    'leaves the instance running when the storage fills up mid-copy, in every mode, with no backup file or point left',
    async () => {
      const mount = join(primary, `tmpfs-${randomUUID()}`);
      await mkdir(mount);
      await run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]);
      try {
        const { instance, domain } = await runningInstance();
        await guestWrite(domain, 1, '0x77', '24M');
        for (const mode of ['SUSPEND', 'STOP', 'SNAPSHOT'] as const) {
          const payload = payloadFor(instance, mode, { root: 'absolute', path: mount }, 'NONE');
          await expect(driver.createBackup(payload)).rejects.toThrow(/No space left/i);
          expect(await state(instance.instanceId)).toBe('RUNNING');
          expect(await stat(join(mount, payload.folder)).catch(() => null)).toBeNull();
          for (const id of instance.volumeIds) expect(await tags(driver.files.volumePath(id))).toEqual([]);
        }
        expect(await readdir(join(mount, organizationId))).toEqual([]);
        expect(await new BackupJournal(primary).list()).toEqual([]);
      } finally {
        await run('umount', [mount]);
      }
    },
    SLOW,
  );

  it(
    'fails a quiesced SNAPSHOT backup of a guest without an agent clearly, running, with nothing written',
    async () => {
      const { instance } = await runningInstance();
      const payload = { ...payloadFor(instance, 'SNAPSHOT'), quiesce: true };
      await expect(driver.createBackup(payload)).rejects.toThrow(/guest agent of instance .* does not answer/);
      expect(await state(instance.instanceId)).toBe('RUNNING');
      expect(await stat(join(secondary, 'backups', payload.folder)).catch(() => null)).toBeNull();
      for (const id of instance.volumeIds) expect(await tags(driver.files.volumePath(id))).toEqual([]);
    },
    SLOW,
  );

  it(
    'at start-up, brings back what a backup interrupted by the agent dying left: paused, stopped, a temporary point',
    async () => {
      const journal = new BackupJournal(primary);
      const paused = await runningInstance();
      const stopped = await runningInstance();
      const snapshotted = await runningInstance();
      const at = new Date().toISOString();
      // What each mode had done when the agent died: journal first, then the guest touched.
      const pausedId = randomUUID();
      await journal.write({ backupId: pausedId, ...paused.instance, step: 'suspended', at });
      await hypervisor.virsh.run(['suspend', paused.domain]);
      await journal.write({ backupId: randomUUID(), ...stopped.instance, step: 'stopped', at });
      await hypervisor.domains.destroy(stopped.domain);
      const snapshotBackup = randomUUID();
      const tag = backupPointTag(snapshotBackup);
      await journal.write({ backupId: snapshotBackup, ...snapshotted.instance, step: 'snapshot', tag, at });
      await hypervisor.instanceSnapshots.create(snapshotted.instance.instanceId, tag, { withMemory: false });
      expect(await tags(driver.files.volumePath(snapshotted.root))).toEqual([tag]);

      const messages = await driver.recoverInterruptedBackups();
      expect(messages).toHaveLength(3);
      for (const message of messages) expect(message).toMatch(/the instance is back as it was$/);
      for (const { instance } of [paused, stopped, snapshotted])
        expect(await state(instance.instanceId)).toBe('RUNNING');
      for (const id of snapshotted.instance.volumeIds) expect(await tags(driver.files.volumePath(id))).toEqual([]);
      expect(await journal.list()).toEqual([]);
      expect(await driver.recoverInterruptedBackups()).toEqual([]);
    },
    SLOW,
  );

  it(
    'starts again a domain found shut off that the api saw running (a stop of an earlier delivery landed late)',
    async () => {
      const { instance, domain } = await runningInstance();
      // The forced stop of a killed agent's delivery, finished after the new agent found nothing to undo.
      await hypervisor.domains.destroy(domain);
      const payload = { ...payloadFor(instance, 'STOP'), instanceRunning: true };
      const result = await driver.createBackup(payload);
      expect(result).toMatchObject({ alreadyExisted: false, instanceRunning: true });
      expect(result.manifest.instanceWasRunning).toBe(true);
      expect(await state(instance.instanceId)).toBe('RUNNING');
      expect(await new BackupJournal(primary).list()).toEqual([]);
      // A repeat after it completed, the domain shut off again: answered from the backup, and started.
      await hypervisor.domains.destroy(domain);
      expect(await driver.createBackup(payload)).toMatchObject({ alreadyExisted: true, instanceRunning: true });
      expect(await state(instance.instanceId)).toBe('RUNNING');
      // Without the api's word that it was running, a shut-off domain is a stopped instance: a plain copy, stopped.
      await hypervisor.domains.destroy(domain);
      const plain = await driver.createBackup(payloadFor(instance, 'STOP'));
      expect(plain).toMatchObject({ instanceRunning: false });
      expect(await state(instance.instanceId)).toBe('STOPPED');
    },
    SLOW,
  );
});
