import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, realpath, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  BACKUP_MANIFEST_FILE,
  type BackupCompressionName,
  backupFolder,
  type BackupManifest,
  type BackupStorageLocation,
  type CreateBackupPayload,
  type RestoreBackupPayload,
} from '@snapdeck/contracts';
import { describeWith } from '@snapdeck/testing';
import { CreateBackupHandler } from '../../handlers/create-backup.handler.js';
import { DeleteBackupHandler } from '../../handlers/delete-backup.handler.js';
import { RestoreBackupHandler } from '../../handlers/restore-backup.handler.js';
import { QemuImgDriver } from './qemu-img.driver.js';

const run = promisify(execFile);
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** Writes `length` bytes of `pattern` at `offset`, as a guest would. */
async function writePattern(file: string, pattern: string, offset = 0, length = MIB): Promise<void> {
  await run('qemu-io', ['-f', 'qcow2', '-c', `write -P ${pattern} ${offset} ${length}`, file]);
}

/** qemu-io `read -P` exits 1 when the data differ: a real integrity check. */
async function hasPattern(file: string, pattern: string, offset = 0, length = MIB): Promise<boolean> {
  try {
    const { stdout } = await run('qemu-io', ['-f', 'qcow2', '-c', `read -P ${pattern} ${offset} ${length}`, file]);
    return !stdout.includes('Pattern verification failed');
  } catch {
    return false;
  }
}

/** `qemu-img check` exits 0 only for an image without errors or leaks. */
async function checkClean(file: string): Promise<boolean> {
  try {
    await run('qemu-img', ['check', '-f', 'qcow2', file]);
    return true;
  } catch {
    return false;
  }
}

async function info(file: string) {
  const { stdout } = await run('qemu-img', ['info', '-f', 'qcow2', '--output=json', file]);
  return JSON.parse(stdout) as {
    'virtual-size': number;
    'backing-filename'?: string;
    snapshots?: { name: string }[];
    'format-specific'?: { data?: { 'compression-type'?: string } };
  };
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).sort();
}

describeWith(['qemu-img'], 'QemuImgDriver backups on real qcow2 files', () => {
  let root: string;
  let secondaryDir: string;
  let driver: QemuImgDriver;
  const organizationId = randomUUID();
  const STORAGE: BackupStorageLocation = { root: 'secondary', path: 'backups' };

  beforeAll(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'backup-agent-qemu-')));
    secondaryDir = join(root, 'secondary');
    driver = new QemuImgDriver({ storageDir: join(root, 'primary'), secondaryDir });
    await driver.init();
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** A stopped instance of a ROOT (1 GiB) and a DATA (1 GiB) volume, each with its own pattern written. */
  async function newInstance(patterns: [string, string] = ['0xab', '0xcd']) {
    const instanceId = randomUUID();
    const rootId = randomUUID();
    const dataId = randomUUID();
    for (const id of [rootId, dataId]) await driver.createVolume(id, 1);
    await writePattern(driver.volumePath(rootId), patterns[0]);
    await writePattern(driver.volumePath(dataId), patterns[1], 4 * MIB);
    return { instanceId, rootId, dataId };
  }

  function backupPayload(
    instance: { instanceId: string; rootId: string; dataId?: string },
    options: { compression?: BackupCompressionName; storage?: BackupStorageLocation } = {},
  ): CreateBackupPayload {
    const backupId = randomUUID();
    return {
      backupId,
      storage: options.storage ?? STORAGE,
      folder: backupFolder(organizationId, backupId),
      organizationId,
      instanceId: instance.instanceId,
      instanceName: 'web-1',
      mode: 'SNAPSHOT',
      compression: options.compression ?? 'ZSTD',
      quiesce: false,
      volumes: [
        { volumeId: instance.rootId, name: 'ROOT-1', type: 'ROOT', sizeGiB: 1 },
        ...(instance.dataId
          ? [{ volumeId: instance.dataId, name: 'DATA-1', type: 'DATADISK' as const, sizeGiB: 1 }]
          : []),
      ],
      probeTimeoutSeconds: 10,
    };
  }

  function restorePayload(
    backup: CreateBackupPayload,
    targets: RestoreBackupPayload['targets'],
    overwrite: boolean,
  ): RestoreBackupPayload {
    const { backupId, storage, folder } = backup;
    return {
      chain: [{ backupId, storage, folder }],
      instanceId: randomUUID(),
      targets,
      overwrite,
      probeTimeoutSeconds: 10,
    };
  }

  const folderOf = (payload: CreateBackupPayload) =>
    join(
      payload.storage.root === 'secondary' ? join(secondaryDir, payload.storage.path) : payload.storage.path,
      payload.folder,
    );

  it('backs up every volume with a manifest whose sha256 match, answers a repeat with alreadyExisted, and restores into new volumes', async () => {
    const instance = await newInstance();
    const payload = backupPayload(instance);
    const created = await new CreateBackupHandler(driver).handle(payload);
    if (!created.ok) throw new Error(created.message);
    const result = created.data;
    expect(result).toMatchObject({
      backupId: payload.backupId,
      alreadyExisted: false,
      guestPausedMs: null,
      instanceRunning: false,
    });

    const dir = folderOf(payload);
    expect(await names(dir)).toEqual(
      [BACKUP_MANIFEST_FILE, `${instance.rootId}.qcow2`, `${instance.dataId}.qcow2`].sort(),
    );
    const manifest = JSON.parse(await readFile(join(dir, BACKUP_MANIFEST_FILE), 'utf8')) as BackupManifest;
    expect(manifest).toEqual(result.manifest);
    expect(manifest).toMatchObject({
      format: 1,
      backupId: payload.backupId,
      organizationId,
      instanceId: instance.instanceId,
      instanceName: 'web-1',
      compression: 'ZSTD',
      incremental: false,
      parentBackupId: null,
      instanceWasRunning: false,
    });
    expect(manifest.volumes.map((v) => [v.volumeId, v.name, v.type])).toEqual([
      [instance.rootId, 'ROOT-1', 'ROOT'],
      [instance.dataId, 'DATA-1', 'DATADISK'],
    ]);
    let files = 0;
    for (const volume of manifest.volumes) {
      const file = join(dir, volume.file);
      expect(await sha256(file)).toBe(volume.sha256);
      expect((await stat(file)).size).toBe(volume.sizeBytes);
      expect(await checkClean(file)).toBe(true);
      const image = await info(file);
      expect(image['virtual-size']).toBe(GIB);
      expect(volume.virtualSizeBytes).toBe(GIB);
      expect(image['backing-filename']).toBeUndefined();
      files += volume.sizeBytes;
    }
    expect(result.sizeBytes).toBeGreaterThan(files);

    // A repeated delivery: the manifest is there, nothing is written again.
    const mtime = (await stat(join(dir, `${instance.rootId}.qcow2`))).mtimeMs;
    const again = await driver.createBackup(payload);
    expect(again).toMatchObject({ alreadyExisted: true, manifest, sizeBytes: result.sizeBytes });
    expect((await stat(join(dir, `${instance.rootId}.qcow2`))).mtimeMs).toBe(mtime);

    // Into new volumes, the ROOT grown to 2 GiB.
    const newRoot = randomUUID();
    const newData = randomUUID();
    const restore = restorePayload(
      payload,
      [
        { sourceVolumeId: instance.rootId, volumeId: newRoot, sizeGiB: 2 },
        { sourceVolumeId: instance.dataId, volumeId: newData, sizeGiB: 1 },
      ],
      false,
    );
    expect(await new RestoreBackupHandler(driver).handle(restore)).toEqual({
      ok: true,
      data: { restored: [newRoot, newData], verifiedFiles: 2 },
      message: 'Restored 2 volume(s); 2 backup file(s) verified first',
    });
    expect(await hasPattern(driver.volumePath(newRoot), '0xab')).toBe(true);
    expect(await hasPattern(driver.volumePath(newData), '0xcd', 4 * MIB)).toBe(true);
    expect(await hasPattern(driver.volumePath(newData), '0', 0, 4 * MIB)).toBe(true);
    expect((await info(driver.volumePath(newRoot)))['virtual-size']).toBe(2 * GIB);
    for (const id of [newRoot, newData]) expect(await checkClean(driver.volumePath(id))).toBe(true);
    expect(await names(join(root, 'primary', 'volumes'))).not.toContainEqual(expect.stringContaining('.partial-'));
  });

  it('restores in place over the volume, keeping its internal snapshots (the safety snapshot) and their data', async () => {
    const instance = await newInstance();
    const payload = backupPayload(instance, { compression: 'GZIP' });
    await driver.createBackup(payload);
    const file = driver.volumePath(instance.rootId);
    // After the backup the guest wrote over the data and beyond it; then the api took its safety snapshot.
    await writePattern(file, '0xee');
    await writePattern(file, '0xef', 8 * MIB);
    const safety = randomUUID();
    await driver.createSnapshot(instance.rootId, safety);

    const result = await driver.restoreBackup(
      restorePayload(payload, [{ sourceVolumeId: instance.rootId, volumeId: instance.rootId, sizeGiB: 1 }], true),
    );
    expect(result).toEqual({ restored: [instance.rootId], verifiedFiles: 1 });
    expect(await hasPattern(file, '0xab')).toBe(true);
    // What the backup did not hold is zero again: the restore wrote every byte, not only the backup's clusters.
    expect(await hasPattern(file, '0', 8 * MIB)).toBe(true);
    expect(await checkClean(file)).toBe(true);
    expect((await info(file)).snapshots?.map((s) => s.name)).toEqual([safety]);
    const saved = join(root, `safety-${randomUUID()}.qcow2`);
    await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'qcow2', '-l', `snapshot.name=${safety}`, file, saved]);
    expect(await hasPattern(saved, '0xee')).toBe(true);
    expect(await hasPattern(saved, '0xef', 8 * MIB)).toBe(true);
    await rm(saved);
  });

  it('writes NONE, ZSTD and GZIP as valid images with the asked compression, ZSTD smaller than NONE', async () => {
    const instance = await newInstance();
    await writePattern(driver.volumePath(instance.rootId), '0x5a', 16 * MIB, 32 * MIB);
    const sizes: Record<string, number> = {};
    for (const compression of ['NONE', 'ZSTD', 'GZIP'] as const) {
      const payload = backupPayload({ instanceId: instance.instanceId, rootId: instance.rootId }, { compression });
      const result = await driver.createBackup(payload);
      const file = join(folderOf(payload), `${instance.rootId}.qcow2`);
      expect(await checkClean(file)).toBe(true);
      const type = (await info(file))['format-specific']?.data?.['compression-type'];
      expect(type).toBe(compression === 'GZIP' ? 'zlib' : compression === 'ZSTD' ? 'zstd' : 'zlib');
      sizes[compression] = result.sizeBytes;
      const target = randomUUID();
      await driver.restoreBackup(
        restorePayload(payload, [{ sourceVolumeId: instance.rootId, volumeId: target, sizeGiB: 1 }], false),
      );
      expect(await hasPattern(driver.volumePath(target), '0x5a', 16 * MIB, 32 * MIB)).toBe(true);
      expect(await hasPattern(driver.volumePath(target), '0xab')).toBe(true);
    }
    expect(sizes['NONE']).toBeGreaterThan(32 * MIB);
    expect(sizes['ZSTD']).toBeLessThan(sizes['NONE'] / 10);
    expect(sizes['GZIP']).toBeLessThan(sizes['NONE'] / 10);
  });

  it('refuses to restore a tampered backup file before writing anything, new or in place', async () => {
    const instance = await newInstance();
    const payload = backupPayload(instance, { compression: 'NONE' });
    const result = await driver.createBackup(payload);
    const file = join(folderOf(payload), `${instance.dataId}.qcow2`);
    const handle = await open(file, 'r+');
    const volume = result.manifest.volumes[1];
    // One byte inside the data clusters, past the header: the image still opens, its data differ.
    await handle.write(Buffer.from([0x00]), 0, 1, (volume?.sizeBytes ?? 0) - 4096);
    await handle.close();
    await writePattern(driver.volumePath(instance.rootId), '0x11');

    const newRoot = randomUUID();
    const newData = randomUUID();
    const outcome = await new RestoreBackupHandler(driver).handle(
      restorePayload(
        payload,
        [
          { sourceVolumeId: instance.rootId, volumeId: newRoot, sizeGiB: 1 },
          { sourceVolumeId: instance.dataId, volumeId: newData, sizeGiB: 1 },
        ],
        false,
      ),
    );
    expect(outcome).toEqual({
      ok: false,
      retryable: false,
      message:
        `Could not restore backup ${payload.backupId}: the file of volume ${instance.dataId} in backup ${payload.backupId} ` +
        'does not match the sha256 its manifest recorded (the backup is damaged or was changed); nothing was restored',
    });
    expect(await driver.volumeExists(newRoot)).toBe(false);
    expect(await driver.volumeExists(newData)).toBe(false);

    await expect(
      driver.restoreBackup(
        restorePayload(
          payload,
          [
            { sourceVolumeId: instance.rootId, volumeId: instance.rootId, sizeGiB: 1 },
            { sourceVolumeId: instance.dataId, volumeId: instance.dataId, sizeGiB: 1 },
          ],
          true,
        ),
      ),
    ).rejects.toThrow('does not match the sha256');
    expect(await hasPattern(driver.volumePath(instance.rootId), '0x11')).toBe(true);
  });

  it('deletes a backup idempotently, and only its own folder', async () => {
    const instance = await newInstance();
    const kept = backupPayload(instance);
    const removed = backupPayload(instance);
    await driver.createBackup(kept);
    await driver.createBackup(removed);
    const handler = new DeleteBackupHandler(driver);
    const request = {
      backupId: removed.backupId,
      storage: removed.storage,
      folder: removed.folder,
      probeTimeoutSeconds: 10,
    };
    expect(await handler.handle(request)).toEqual({
      ok: true,
      data: { alreadyGone: false },
      message: 'Backup deleted',
    });
    expect(await stat(folderOf(removed)).catch(() => null)).toBeNull();
    expect(await names(folderOf(kept))).toHaveLength(3);
    expect(await handler.handle(request)).toEqual({
      ok: true,
      data: { alreadyGone: true },
      message: 'The backup was already gone',
    });
    expect((await driver.createBackup(kept)).alreadyExisted).toBe(true);
    // A restore of the deleted backup says so, writing nothing.
    await expect(
      driver.restoreBackup(
        restorePayload(removed, [{ sourceVolumeId: instance.rootId, volumeId: randomUUID(), sizeGiB: 1 }], false),
      ),
    ).rejects.toThrow(`backup ${removed.backupId} does not exist in its storage`);
  });

  it('fails cleanly on a storage that cannot be written, is missing, or would be left through a path or a link', async () => {
    const instance = await newInstance();
    const locked = join(root, `locked-${randomUUID()}`);
    await mkdir(locked);
    await run('chattr', ['+i', locked]);
    try {
      const payload = backupPayload(instance, { storage: { root: 'absolute', path: locked } });
      await expect(driver.createBackup(payload)).rejects.toThrow(
        `Could not back up instance ${instance.instanceId} to backup ${payload.backupId}: operation not permitted on backup storage`,
      );
      expect(await names(locked)).toEqual([]);
    } finally {
      await run('chattr', ['-i', locked]);
    }
    const missing = backupPayload(instance, { storage: { root: 'absolute', path: join(root, 'not-mounted') } });
    await expect(driver.createBackup(missing)).rejects.toThrow(
      "the backup storage's path does not exist on this host (not mounted?)",
    );
    await expect(stat(join(root, 'not-mounted'))).rejects.toThrow('ENOENT');

    await expect(
      driver.createBackup(backupPayload(instance, { storage: { root: 'secondary', path: '../x' } })),
    ).rejects.toThrow('it contains a ".." segment');
    await expect(
      driver.createBackup(backupPayload(instance, { storage: { root: 'absolute', path: '/srv/../etc' } })),
    ).rejects.toThrow('it contains a ".." segment');
    const other = backupPayload(instance);
    await expect(driver.createBackup({ ...other, folder: `${organizationId}/../${other.backupId}` })).rejects.toThrow(
      'Invalid backup folder',
    );
    // An organization folder that is a link elsewhere: nothing is written through it.
    const outside = join(root, `outside-${randomUUID()}`);
    await mkdir(outside);
    const linkedOrg = randomUUID();
    await symlink(outside, join(secondaryDir, 'backups', linkedOrg));
    const linked = backupPayload(instance);
    await expect(
      driver.createBackup({ ...linked, organizationId: linkedOrg, folder: backupFolder(linkedOrg, linked.backupId) }),
    ).rejects.toThrow("the backup's folder is reached through a symbolic link; refused");
    expect(await names(outside)).toEqual([]);
  });

  it('removes what it wrote of a backup that fails midway, and never another backup', async () => {
    const instance = await newInstance();
    const good = backupPayload(instance);
    await driver.createBackup(good);
    // The DATA volume vanished: the ROOT's file is written first, then the backup fails.
    const broken = backupPayload({ ...instance, dataId: randomUUID() });
    await expect(driver.createBackup(broken)).rejects.toThrow(/volume .* does not exist on this host/);
    expect(await stat(folderOf(broken)).catch(() => null)).toBeNull();
    expect(await names(folderOf(good))).toHaveLength(3);
  });

  it('fails a backup that runs out of space on the storage mid-copy, leaving none of its files', async () => {
    const mount = join(root, `tmpfs-${randomUUID()}`);
    await mkdir(mount);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]);
    try {
      const instance = await newInstance();
      const small = backupPayload(
        { instanceId: instance.instanceId, rootId: instance.rootId },
        { storage: { root: 'absolute', path: mount } },
      );
      await driver.createBackup(small);
      await writePattern(driver.volumePath(instance.dataId), '0x77', 0, 24 * MIB);
      const big = backupPayload(instance, { compression: 'NONE', storage: { root: 'absolute', path: mount } });
      await expect(driver.createBackup(big)).rejects.toThrow(
        new RegExp(
          `^Could not back up instance ${instance.instanceId} to backup ${big.backupId}: .*No space left`,
          'i',
        ),
      );
      expect(await stat(folderOf(big)).catch(() => null)).toBeNull();
      expect(await names(folderOf(small))).toEqual([BACKUP_MANIFEST_FILE, `${instance.rootId}.qcow2`].sort());
      const target = randomUUID();
      await driver.restoreBackup(
        restorePayload(small, [{ sourceVolumeId: instance.rootId, volumeId: target, sizeGiB: 1 }], false),
      );
      expect(await hasPattern(driver.volumePath(target), '0xab')).toBe(true);
    } finally {
      await run('umount', [mount]);
    }
  });

  it('writes an incremental as the clusters that changed since its parent, backed by the parent file, relative', async () => {
    const instance = await newInstance();
    const file = driver.volumePath(instance.rootId);
    await writePattern(file, '0x21', 0, 50 * MIB);
    const single = { instanceId: instance.instanceId, rootId: instance.rootId };
    const full = backupPayload(single, { compression: 'NONE' });
    const fullResult = await driver.createBackup(full);
    await writePattern(file, '0x22', 100 * MIB, 10 * MIB);
    const { backupId, storage, folder } = full;
    const incremental = { ...backupPayload(single, { compression: 'NONE' }), parent: { backupId, storage, folder } };
    const result = await driver.createBackup(incremental);
    const volume = result.manifest.volumes[0];
    expect(result.manifest).toMatchObject({ incremental: true, parentBackupId: full.backupId });
    expect(volume?.backingFile).toBe(`../${full.backupId}/${instance.rootId}.qcow2`);
    const delta = join(folderOf(incremental), `${instance.rootId}.qcow2`);
    expect((await info(delta))['backing-filename']).toBe(`../${full.backupId}/${instance.rootId}.qcow2`);
    expect(await checkClean(delta)).toBe(true);
    expect(await sha256(delta)).toBe(volume?.sha256);
    // About the 10 MiB written since, not the 60 MiB the volume holds.
    expect(result.sizeBytes).toBeGreaterThan(10 * MIB);
    expect(result.sizeBytes).toBeLessThan(12 * MIB);
    expect(fullResult.sizeBytes).toBeGreaterThan(50 * MIB);
    console.log(`incremental after 10 MiB of writes: ${result.sizeBytes} bytes (full: ${fullResult.sizeBytes})`);
  });

  it('writes a full backup when the parent is gone from its storage or has lost its manifest', async () => {
    const instance = await newInstance();
    await writePattern(driver.volumePath(instance.rootId), '0x23', 0, 4 * MIB);
    const single = { instanceId: instance.instanceId, rootId: instance.rootId };
    const damaged = backupPayload(single, { compression: 'NONE' });
    await driver.createBackup(damaged);
    await rm(join(folderOf(damaged), 'manifest.json'));
    const gone = backupPayload(single, { compression: 'NONE' });
    await driver.createBackup(gone);
    await rm(folderOf(gone), { recursive: true });
    for (const parent of [damaged, gone]) {
      const { backupId, storage, folder } = parent;
      const payload = { ...backupPayload(single, { compression: 'NONE' }), parent: { backupId, storage, folder } };
      const result = await driver.createBackup(payload);
      expect(result.manifest).toMatchObject({ incremental: false, parentBackupId: null });
      const file = join(folderOf(payload), `${instance.rootId}.qcow2`);
      expect((await info(file))['backing-filename']).toBeUndefined();
      expect(await checkClean(file)).toBe(true);
    }
  });

  it('restores the last of a full and 3 incrementals to its state, flattened, and verifies the whole chain first', async () => {
    const instance = await newInstance();
    const file = driver.volumePath(instance.rootId);
    const single = { instanceId: instance.instanceId, rootId: instance.rootId };
    const chain: CreateBackupPayload[] = [];
    const patterns = ['0x31', '0x32', '0x33', '0x34'];
    for (const [i, pattern] of patterns.entries()) {
      // Each run writes a region of its own and overwrites the first MiB.
      await writePattern(file, pattern, (i + 1) * 16 * MIB, 4 * MIB);
      await writePattern(file, pattern);
      const parent = chain[0];
      const payload = {
        ...backupPayload(single),
        ...(parent ? { parent: { backupId: parent.backupId, storage: parent.storage, folder: parent.folder } } : {}),
      };
      await driver.createBackup(payload);
      chain.unshift(payload);
    }
    await writePattern(file, '0x99', 0, 80 * MIB);
    const locations = chain.map(({ backupId, storage, folder }) => ({ backupId, storage, folder }));
    const target = randomUUID();
    const restore = {
      chain: locations,
      instanceId: randomUUID(),
      targets: [{ sourceVolumeId: instance.rootId, volumeId: target, sizeGiB: 1 }],
      overwrite: false,
      probeTimeoutSeconds: 10,
    };
    expect(await driver.restoreBackup(restore)).toEqual({ restored: [target], verifiedFiles: 4 });
    const restored = driver.volumePath(target);
    expect((await info(restored))['backing-filename']).toBeUndefined();
    expect(await checkClean(restored)).toBe(true);
    expect(await hasPattern(restored, '0x34')).toBe(true);
    for (const [i, pattern] of patterns.entries()) {
      expect(await hasPattern(restored, pattern, (i + 1) * 16 * MIB, 4 * MIB)).toBe(true);
    }
    // In place over the volume, the same.
    await driver.restoreBackup({
      ...restore,
      targets: [{ sourceVolumeId: instance.rootId, volumeId: instance.rootId, sizeGiB: 1 }],
      overwrite: true,
    });
    expect(await hasPattern(file, '0x34')).toBe(true);
    expect(await hasPattern(file, '0', 5 * 16 * MIB, 4 * MIB)).toBe(true);
    expect(await hasPattern(file, '0x31', 16 * MIB, 4 * MIB)).toBe(true);

    // A chain that lacks a parent, or whose parent was changed, restores nothing.
    await expect(
      driver.restoreBackup({
        ...restore,
        chain: locations.slice(0, 2),
        targets: [{ sourceVolumeId: instance.rootId, volumeId: randomUUID(), sizeGiB: 1 }],
      }),
    ).rejects.toThrow('which the chain lacks');
    const parentFile = join(folderOf(chain[2]), `${instance.rootId}.qcow2`);
    const handle = await open(parentFile, 'r+');
    await handle.write(Buffer.from([0x01]), 0, 1, (await stat(parentFile)).size - 1);
    await handle.close();
    const untouched = randomUUID();
    await expect(
      driver.restoreBackup({
        ...restore,
        targets: [{ sourceVolumeId: instance.rootId, volumeId: untouched, sizeGiB: 1 }],
      }),
    ).rejects.toThrow(
      `the file of volume ${instance.rootId} in backup ${chain[2]?.backupId} does not match the sha256`,
    );
    expect(await driver.volumeExists(untouched)).toBe(false);
  });

  it('bounds the storage probe: a storage that does not answer in time fails the job instead of holding it', async () => {
    const instance = await newInstance();
    const payload = { ...backupPayload(instance), probeTimeoutSeconds: 0.001 };
    await expect(driver.createBackup(payload)).rejects.toThrow(
      'the backup storage did not answer within 1 ms (a dead or hung mount?); nothing was done',
    );
  });
});
