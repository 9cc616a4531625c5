import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { link, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeWith } from '@snapdeck/testing';
import { DriverError } from '../volume-driver.js';
import { QemuImgDriver } from './qemu-img.driver.js';

const run = promisify(execFile);
const GIB = 1024 ** 3;

/** What the disk says, read with qemu-img directly rather than through the driver under test. */
async function diskInfo(path: string): Promise<{ format: string; virtualSize: number; tags: string[] }> {
  const { stdout } = await run('qemu-img', ['info', '-f', 'qcow2', '--output=json', path]);
  const info = JSON.parse(stdout) as { format: string; 'virtual-size': number; snapshots?: { name: string }[] };
  return { format: info.format, virtualSize: info['virtual-size'], tags: (info.snapshots ?? []).map((s) => s.name) };
}

describeWith(['qemu-img'], 'QemuImgDriver on real qcow2 files', () => {
  let storageDir: string;
  let driver: QemuImgDriver;

  beforeEach(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'snapdeck-qemu-img-'));
    driver = new QemuImgDriver({ storageDir, secondaryDir: join(storageDir, 'secondary') });
    await driver.init();
  });

  afterEach(async () => {
    await rm(storageDir, { recursive: true, force: true });
  });

  const volumeFile = (volumeId: string) => join(storageDir, 'volumes', `${volumeId}.qcow2`);

  describe('createVolume', () => {
    it('makes a blank qcow2 of the requested virtual size at volumes/<volumeId>.qcow2, and nothing else', async () => {
      const volumeId = randomUUID();
      await expect(driver.createVolume(volumeId, 2)).resolves.toEqual({ alreadyExisted: false });
      const info = await diskInfo(volumeFile(volumeId));
      expect(info).toEqual({ format: 'qcow2', virtualSize: 2 * GIB, tags: [] });
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${volumeId}.qcow2`]);
      await expect(driver.volumeExists(volumeId)).resolves.toBe(true);
    });

    it('treats an existing volume as success and leaves its file alone', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      const snapshotId = randomUUID();
      await run('qemu-img', ['snapshot', '-c', snapshotId, volumeFile(volumeId)]);
      const before = await stat(volumeFile(volumeId));

      await expect(driver.createVolume(volumeId, 1)).resolves.toEqual({ alreadyExisted: true });

      const after = await stat(volumeFile(volumeId));
      expect(after.ino).toBe(before.ino);
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([snapshotId]);
    });

    it('refuses an existing volume of another size', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await expect(driver.createVolume(volumeId, 3)).rejects.toThrow(
        `Volume ${volumeId} already exists with a size of 1 GiB, not 3 GiB`,
      );
      expect((await diskInfo(volumeFile(volumeId))).virtualSize).toBe(GIB);
    });

    it('removes the temporary file a crashed attempt left behind', async () => {
      const volumeId = randomUUID();
      const leftover = `${volumeFile(volumeId)}.partial-${randomUUID()}`;
      await writeFile(leftover, 'half an image');
      await driver.createVolume(volumeId, 1);
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${volumeId}.qcow2`]);
    });

    it('removes it also when the crash came after the image was published (a hard link of it)', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      // Killed between link(partial, final) and unlink(partial): both names remain.
      await link(volumeFile(volumeId), `${volumeFile(volumeId)}.partial-${randomUUID()}`);
      await expect(driver.createVolume(volumeId, 1)).resolves.toEqual({ alreadyExisted: true });
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${volumeId}.qcow2`]);
    });
  });

  describe('createSnapshot', () => {
    it('takes an internal snapshot tagged with the snapshot id, once, however often it is asked', async () => {
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);

      await expect(driver.createSnapshot(volumeId, snapshotId)).resolves.toEqual({
        alreadyExisted: false,
        sizeBytes: null,
        quiesced: false,
      });
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([snapshotId]);

      await expect(driver.createSnapshot(volumeId, snapshotId)).resolves.toEqual({
        alreadyExisted: true,
        sizeBytes: null,
        quiesced: false,
      });
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([snapshotId]);
    });

    it('serializes concurrent snapshots of one volume so that none meets the qcow2 write lock', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

      const results = await Promise.all(ids.map((id) => driver.createSnapshot(volumeId, id)));

      expect(results).toEqual(ids.map(() => ({ alreadyExisted: false, sizeBytes: null, quiesced: false })));
      expect((await diskInfo(volumeFile(volumeId))).tags.sort()).toEqual([...ids].sort());
    });

    it('takes one snapshot when the same snapshot is requested twice at once', async () => {
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);

      const results = await Promise.all([
        driver.createSnapshot(volumeId, snapshotId),
        driver.createSnapshot(volumeId, snapshotId),
      ]);

      expect(results.map((r) => r.alreadyExisted).sort()).toEqual([false, true]);
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([snapshotId]);
    });

    it('fails on a volume that does not exist, and creates no file', async () => {
      const volumeId = randomUUID();
      await expect(driver.createSnapshot(volumeId, randomUUID())).rejects.toThrow(
        'the volume does not exist on this host',
      );
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([]);
    });
  });

  describe('deleteSnapshot', () => {
    it('removes the tag from the image, and reports alreadyGone the second time', async () => {
      const volumeId = randomUUID();
      const keep = randomUUID();
      const remove = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createSnapshot(volumeId, keep);
      await driver.createSnapshot(volumeId, remove);

      await expect(driver.deleteSnapshot(volumeId, remove)).resolves.toEqual({ alreadyGone: false });
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([keep]);

      await expect(driver.deleteSnapshot(volumeId, remove)).resolves.toEqual({ alreadyGone: true });
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([keep]);
    });

    it('removes every copy of a tag that an outside tool duplicated', async () => {
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await run('qemu-img', ['snapshot', '-c', snapshotId, volumeFile(volumeId)]);
      await run('qemu-img', ['snapshot', '-c', snapshotId, volumeFile(volumeId)]);
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([snapshotId, snapshotId]);

      await expect(driver.deleteSnapshot(volumeId, snapshotId)).resolves.toEqual({ alreadyGone: false });
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([]);
    });

    it('does not call a snapshot of a missing volume "already gone"', async () => {
      await expect(driver.deleteSnapshot(randomUUID(), randomUUID())).rejects.toThrow(
        'the volume does not exist on this host',
      );
    });
  });

  it('lists the snapshots on disk with their tags and dates', async () => {
    const volumeId = randomUUID();
    const snapshotId = randomUUID();
    await driver.createVolume(volumeId, 1);
    const before = Date.now();
    await driver.createSnapshot(volumeId, snapshotId);
    const list = await driver.listSnapshots(volumeId);
    expect(list.map((s) => s.tag)).toEqual([snapshotId]);
    expect(list[0]?.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('refuses ids that are not UUIDs before touching the disk', async () => {
    const volumeId = randomUUID();
    await driver.createVolume(volumeId, 1);
    const bad = ['../../etc/passwd', '', 'abc', `${volumeId}/../x`, `-c${volumeId}`];
    for (const id of bad) {
      await expect(driver.createVolume(id, 1)).rejects.toThrow(DriverError);
      await expect(driver.createSnapshot(id, randomUUID())).rejects.toThrow('Invalid volume id');
      await expect(driver.createSnapshot(volumeId, id)).rejects.toThrow('Invalid snapshot id');
      await expect(driver.deleteSnapshot(volumeId, id)).rejects.toThrow('Invalid snapshot id');
    }
    expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${volumeId}.qcow2`]);
    expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([]);
  });

  describe('when another process holds the image', () => {
    let holder: ChildProcess | undefined;

    afterEach(() => {
      holder?.kill('SIGKILL');
      holder = undefined;
    });

    it('fails with a retryable "in use" message that names the volume but not its path', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      // qemu-io opens the image read-write, taking its write lock, and sleeps.
      holder = spawn('qemu-io', ['-c', 'sleep 30000', volumeFile(volumeId)], { stdio: 'ignore' });
      const error = await waitForLockedFailure(() => driver.createSnapshot(volumeId, randomUUID()));

      expect(error).toBeInstanceOf(DriverError);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(new RegExp(`^Could not create snapshot [0-9a-f-]+ of volume ${volumeId}: `));
      expect(error.message).toContain('in use by another process');
      expect(error.message).not.toContain(storageDir);
    });
  });
});

/** qemu-io needs a moment to open the image: retry until the operation meets its lock (or give up). */
async function waitForLockedFailure(operation: () => Promise<unknown>): Promise<DriverError> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await operation();
    } catch (error) {
      if (error instanceof DriverError && error.message.includes('in use')) return error;
      throw error;
    }
    if (Date.now() > deadline) throw new Error('the image never became locked');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
