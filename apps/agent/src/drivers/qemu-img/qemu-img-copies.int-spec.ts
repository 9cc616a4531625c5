import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { templatePath, transferPath } from '@snapdeck/contracts';
import { describeWith } from '@snapdeck/testing';
import { AgentDrivers } from '../agent-drivers.js';
import { CreateVolumesHandler } from '../../handlers/create-volumes.handler.js';
import { DestroyVolumesHandler } from '../../handlers/destroy-volumes.handler.js';
import { DriverError } from '../volume-driver.js';
import { exists, failure } from './driver-assertions.test-support.js';
import { QemuImgDriver } from './qemu-img.driver.js';

const run = promisify(execFile);
const GIB = 1024 ** 3;

/** What the disk says, read with qemu-img directly rather than through the driver under test. */
async function diskInfo(path: string) {
  const { stdout } = await run('qemu-img', ['info', '-f', 'qcow2', '--output=json', path]);
  const info = JSON.parse(stdout) as Record<string, unknown> & {
    'virtual-size': number;
    snapshots?: { name: string }[];
  };
  return {
    virtualSize: info['virtual-size'],
    tags: (info.snapshots ?? []).map((s) => s.name),
    backing: info['backing-filename'] ?? info['full-backing-filename'] ?? null,
  };
}

/** Writes a 1 MiB pattern at offset 0, as a guest would. */
async function writePattern(file: string, pattern: string): Promise<void> {
  await run('qemu-io', ['-f', 'qcow2', '-c', `write -P ${pattern} 0 1M`, file]);
}

/** qemu-io `read -P` exits 1 when the data differ: a real integrity check. */
async function hasPattern(file: string, pattern: string): Promise<boolean> {
  try {
    const { stdout } = await run('qemu-io', ['-f', 'qcow2', '-c', `read -P ${pattern} 0 1M`, file]);
    return !stdout.includes('Pattern verification failed');
  } catch {
    return false;
  }
}

describeWith(['qemu-img'], 'QemuImgDriver: revert, export, copies, templates and destroy on real qcow2 files', () => {
  let root: string;
  let storageDir: string;
  let secondaryDir: string;
  let driver: QemuImgDriver;

  beforeEach(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'snapdeck-copies-')));
    storageDir = join(root, 'primary');
    secondaryDir = join(root, 'secondary');
    driver = new QemuImgDriver({ storageDir, secondaryDir });
    await driver.init();
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const volumeFile = (volumeId: string) => join(storageDir, 'volumes', `${volumeId}.qcow2`);
  const inSecondary = (path: string) => join(secondaryDir, path);

  /** A 1 GiB volume holding 0xab in its snapshot and 0xcd in its current data. */
  async function volumeWithSnapshot(sizeGiB = 1) {
    const volumeId = randomUUID();
    const snapshotId = randomUUID();
    await driver.createVolume(volumeId, sizeGiB);
    await writePattern(volumeFile(volumeId), '0xab');
    await driver.createSnapshot(volumeId, snapshotId);
    await writePattern(volumeFile(volumeId), '0xcd');
    expect(await hasPattern(volumeFile(volumeId), '0xcd')).toBe(true);
    return { volumeId, snapshotId };
  }

  /** A standalone qcow2 with a 0xab pattern, placed in secondary storage (or anywhere) as an operator would. */
  async function plainImage(path: string, size = '1G'): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', path, size]);
    await writePattern(path, '0xab');
    return path;
  }

  describe('revertSnapshot', () => {
    it('brings back the data of the snapshot, keeps the snapshot, and does the same the second time', async () => {
      const { volumeId, snapshotId } = await volumeWithSnapshot();
      await driver.revertSnapshot(volumeId, snapshotId);
      expect(await hasPattern(volumeFile(volumeId), '0xab')).toBe(true);
      expect(await hasPattern(volumeFile(volumeId), '0xcd')).toBe(false);
      expect((await diskInfo(volumeFile(volumeId))).tags).toEqual([snapshotId]);

      await driver.revertSnapshot(volumeId, snapshotId);
      expect(await hasPattern(volumeFile(volumeId), '0xab')).toBe(true);
    });

    it('fails clearly for a snapshot the volume does not have, or a volume that does not exist', async () => {
      const { volumeId } = await volumeWithSnapshot();
      const missing = randomUUID();
      await expect(driver.revertSnapshot(volumeId, missing)).rejects.toThrow(
        `Could not revert volume ${volumeId} to snapshot ${missing}: snapshot ${missing} is missing from volume ${volumeId} on disk`,
      );
      expect(await hasPattern(volumeFile(volumeId), '0xcd')).toBe(true);
      await expect(driver.revertSnapshot(randomUUID(), missing)).rejects.toThrow('the volume does not exist');
      await expect(driver.revertSnapshot(volumeId, '../x')).rejects.toThrow('Invalid snapshot id');
    });
  });

  describe('exportSnapshot', () => {
    it('writes the snapshot as a standalone, clean qcow2 in secondary storage, once', async () => {
      const { volumeId, snapshotId } = await volumeWithSnapshot();
      const destination = transferPath(randomUUID());

      await expect(driver.exportSnapshot(volumeId, snapshotId, destination)).resolves.toEqual({
        alreadyExisted: false,
        virtualSizeBytes: GIB,
      });

      const file = inSecondary(destination);
      expect(await hasPattern(file, '0xab')).toBe(true);
      const info = await diskInfo(file);
      expect(info).toEqual({ virtualSize: GIB, tags: [], backing: null });
      await expect(run('qemu-img', ['check', '-q', '-f', 'qcow2', file])).resolves.toBeDefined();
      expect(await readdir(dirname(file))).toEqual([destination.split('/')[1]]);
      // The volume itself is untouched.
      expect(await hasPattern(volumeFile(volumeId), '0xcd')).toBe(true);

      const before = await stat(file);
      await expect(driver.exportSnapshot(volumeId, snapshotId, destination)).resolves.toEqual({
        alreadyExisted: true,
        virtualSizeBytes: GIB,
      });
      expect((await stat(file)).ino).toBe(before.ino);
    });

    it('fails for a missing snapshot and leaves no file; refuses a destination outside secondary storage', async () => {
      const { volumeId } = await volumeWithSnapshot();
      const destination = transferPath(randomUUID());
      await expect(driver.exportSnapshot(volumeId, randomUUID(), destination)).rejects.toThrow(
        'is missing from volume',
      );
      expect(await readdir(join(secondaryDir, 'transfers'))).toEqual([]);
      const { snapshotId } = await volumeWithSnapshot();
      for (const bad of ['../escape.qcow2', '/tmp/escape.qcow2', 'transfers/../../x.qcow2', '']) {
        await expect(driver.exportSnapshot(volumeId, snapshotId, bad)).rejects.toThrow('Invalid destination');
      }
      expect(await exists(join(root, 'escape.qcow2'))).toBe(false);
    });

    it('refuses to write through a folder that is a link out of secondary storage', async () => {
      const { volumeId, snapshotId } = await volumeWithSnapshot();
      const outside = join(root, 'outside');
      await mkdir(outside);
      await symlink(outside, inSecondary('transfers'));
      const error = await failure(driver.exportSnapshot(volumeId, snapshotId, 'transfers/x.qcow2'));
      expect(error.message).toContain('transfers/x.qcow2 resolves to a location outside secondary storage');
      expect(error.message).not.toContain(root);
      expect(await readdir(outside)).toEqual([]);
    });
  });

  describe('createVolume from a source', () => {
    it('copies a snapshot of another volume on this host, grown to the requested size', async () => {
      const { volumeId: sourceId, snapshotId } = await volumeWithSnapshot();
      const volumeId = randomUUID();
      const source = { kind: 'snapshot' as const, volumeId: sourceId, snapshotId };

      await expect(driver.createVolume(volumeId, 3, source)).resolves.toEqual({ alreadyExisted: false });
      expect(await hasPattern(volumeFile(volumeId), '0xab')).toBe(true);
      expect(await diskInfo(volumeFile(volumeId))).toEqual({ virtualSize: 3 * GIB, tags: [], backing: null });
      await expect(run('qemu-img', ['check', '-q', '-f', 'qcow2', volumeFile(volumeId)])).resolves.toBeDefined();
      expect(await hasPattern(volumeFile(sourceId), '0xcd')).toBe(true);

      await expect(driver.createVolume(volumeId, 3, source)).resolves.toEqual({ alreadyExisted: true });
      expect((await readdir(join(storageDir, 'volumes'))).sort()).toEqual(
        [`${sourceId}.qcow2`, `${volumeId}.qcow2`].sort(),
      );
    });

    it('refuses a size smaller than the source, a missing snapshot, and a snapshot of the volume itself', async () => {
      const { volumeId: sourceId, snapshotId } = await volumeWithSnapshot(2);
      const volumeId = randomUUID();
      await expect(
        driver.createVolume(volumeId, 1, { kind: 'snapshot', volumeId: sourceId, snapshotId }),
      ).rejects.toThrow("the requested size of 1 GiB is smaller than the source's 2 GiB; ask for at least 2 GiB");
      const missing = randomUUID();
      await expect(
        driver.createVolume(volumeId, 2, { kind: 'snapshot', volumeId: sourceId, snapshotId: missing }),
      ).rejects.toThrow(`snapshot ${missing} is missing from volume ${sourceId} on disk`);
      await expect(
        driver.createVolume(volumeId, 2, { kind: 'snapshot', volumeId: randomUUID(), snapshotId }),
      ).rejects.toThrow('the source volume does not exist on this host');
      await expect(
        driver.createVolume(sourceId, 2, { kind: 'snapshot', volumeId: sourceId, snapshotId }),
      ).rejects.toThrow('cannot be created from a snapshot of itself');
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${sourceId}.qcow2`]);
    });

    it('copies a transfer file from secondary storage and removes it afterwards, idempotently (through the handler)', async () => {
      const { volumeId: sourceId, snapshotId } = await volumeWithSnapshot();
      const transfer = transferPath(randomUUID());
      await driver.exportSnapshot(sourceId, snapshotId, transfer);
      const handler = new CreateVolumesHandler(driver);
      const volumeId = randomUUID();
      const payload = {
        volumes: [{ volumeId, sizeGiB: 2, source: { kind: 'secondary' as const, path: transfer, removeAfter: true } }],
      };

      expect(await handler.handle(payload)).toEqual({
        ok: true,
        data: { created: [volumeId] },
        message: `Created 1 volume(s); removed ${transfer}`,
      });
      expect(await hasPattern(volumeFile(volumeId), '0xab')).toBe(true);
      expect((await diskInfo(volumeFile(volumeId))).virtualSize).toBe(2 * GIB);
      expect(await exists(inSecondary(transfer))).toBe(false);

      // A repeated delivery: the source is gone and the volume is there, which is success.
      expect(await handler.handle(payload)).toEqual({
        ok: true,
        data: { created: [volumeId] },
        message: `Created 0 volume(s); 1 already existed; ${transfer} was already removed`,
      });
      expect(await hasPattern(volumeFile(volumeId), '0xab')).toBe(true);
    });

    it('copies a template and keeps it; refuses a missing source and a source with a backing file', async () => {
      const templateFile = await plainImage(inSecondary(templatePath(randomUUID())));
      const path = templateFile.slice(secondaryDir.length + 1);
      const volumeId = randomUUID();
      await expect(driver.createVolume(volumeId, 1, { kind: 'secondary', path })).resolves.toEqual({
        alreadyExisted: false,
      });
      expect(await hasPattern(volumeFile(volumeId), '0xab')).toBe(true);
      expect(await exists(templateFile)).toBe(true);

      await expect(
        driver.createVolume(randomUUID(), 1, { kind: 'secondary', path: 'templates/missing.qcow2' }),
      ).rejects.toThrow('templates/missing.qcow2 does not exist in secondary storage');

      const overlay = inSecondary('templates/overlay.qcow2');
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', templateFile, '-F', 'qcow2', overlay]);
      const error = await failure(
        driver.createVolume(randomUUID(), 1, { kind: 'secondary', path: 'templates/overlay.qcow2' }),
      );
      expect(error.message).toContain('templates/overlay.qcow2 has a backing file');
      expect(error.message).not.toContain(root);
      // removeAfter outside transfers/ is refused before anything happens.
      await expect(
        driver.createVolume(randomUUID(), 1, { kind: 'secondary', path, removeAfter: true }),
      ).rejects.toThrow('removeAfter is allowed only for files under transfers/');
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${volumeId}.qcow2`]);
    });
  });

  describe('importTemplate', () => {
    const templateId = randomUUID();
    const templateFile = () => inSecondary(templatePath(templateId));

    async function refused(path: string): Promise<DriverError> {
      const error = await failure(driver.importTemplate(templateId, path));
      expect(error.message).not.toContain(root);
      expect(await exists(templateFile())).toBe(false);
      return error;
    }

    it('accepts a plain qcow2 inside secondary storage and copies it to the template path, once', async () => {
      await plainImage(inSecondary('uploads/good.qcow2'), '2G');
      await expect(driver.importTemplate(templateId, 'uploads/good.qcow2')).resolves.toEqual({
        alreadyExisted: false,
        virtualSizeBytes: 2 * GIB,
      });
      expect(await hasPattern(templateFile(), '0xab')).toBe(true);
      expect(await diskInfo(templateFile())).toEqual({ virtualSize: 2 * GIB, tags: [], backing: null });
      expect(await readdir(join(secondaryDir, 'templates'))).toEqual([`${templateId}.qcow2`]);
      expect(await readdir(driver.workDir)).toEqual([]);
      expect(await exists(inSecondary('uploads/good.qcow2'))).toBe(true);

      const before = await stat(templateFile());
      await expect(driver.importTemplate(templateId, 'uploads/good.qcow2')).resolves.toEqual({
        alreadyExisted: true,
        virtualSizeBytes: 2 * GIB,
      });
      expect((await stat(templateFile())).ino).toBe(before.ino);
    });

    it('follows a symbolic link that stays inside secondary storage', async () => {
      await plainImage(inSecondary('uploads/real.qcow2'));
      await symlink('real.qcow2', inSecondary('uploads/alias.qcow2'));
      await expect(driver.importTemplate(templateId, 'uploads/alias.qcow2')).resolves.toMatchObject({
        alreadyExisted: false,
      });
      expect(await hasPattern(templateFile(), '0xab')).toBe(true);
    });

    it('refuses a qcow2 with a backing file, even one inside secondary storage', async () => {
      await plainImage(inSecondary('uploads/base.qcow2'));
      // A backing file outside secondary storage (made in the test's own folder, never a host file).
      const secret = join(root, 'secret.raw');
      await writeFile(secret, Buffer.alloc(1024 * 1024, 0x5a));
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', secret, '-F', 'raw', inSecondary('uploads/a.qcow2')]);
      expect((await refused('uploads/a.qcow2')).message).toBe(
        `Could not import template ${templateId} from uploads/a.qcow2: uploads/a.qcow2 has a backing file; ` +
          'only a standalone qcow2 is accepted',
      );
      const overlay = inSecondary('uploads/overlay.qcow2');
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', overlay]);
      expect((await refused('uploads/overlay.qcow2')).message).toContain('has a backing file');
    });

    it('refuses a qcow2 with an external data file', async () => {
      // Never name a host file here: qemu-img create truncates the data file it is given.
      const file = inSecondary('uploads/ext.qcow2');
      await mkdir(dirname(file), { recursive: true });
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${join(root, 'ext.data')}`, file, '1M']);
      expect((await refused('uploads/ext.qcow2')).message).toContain('uploads/ext.qcow2 has an external data file');
    });

    it('refuses a raw file and a file of another format, with the format pinned', async () => {
      const raw = inSecondary('uploads/disk.raw');
      await mkdir(dirname(raw), { recursive: true });
      await run('qemu-img', ['create', '-q', '-f', 'raw', raw, '1M']);
      expect((await refused('uploads/disk.raw')).message).toContain('uploads/disk.raw is not a qcow2 image');
      await run('qemu-img', ['create', '-q', '-f', 'vmdk', inSecondary('uploads/disk.vmdk'), '1M']);
      expect((await refused('uploads/disk.vmdk')).message).toContain('is not a qcow2 image');
      await writeFile(inSecondary('uploads/empty.qcow2'), '');
      expect((await refused('uploads/empty.qcow2')).message).toContain('is not a qcow2 image');
    });

    it('refuses "..", absolute paths and symbolic links out of secondary storage without reading them', async () => {
      await plainImage(join(root, 'outside', 'secret.qcow2'));
      await mkdir(inSecondary('uploads'), { recursive: true });

      expect((await refused('../outside/secret.qcow2')).message).toContain('contains a ".." segment');
      expect((await refused('uploads/../../outside/secret.qcow2')).message).toContain('".."');
      expect((await failure(driver.importTemplate(templateId, '/etc/passwd'))).message).toContain('an absolute path');

      await symlink(join(root, 'outside', 'secret.qcow2'), inSecondary('uploads/link.qcow2'));
      expect((await refused('uploads/link.qcow2')).message).toBe(
        `Could not import template ${templateId} from uploads/link.qcow2: uploads/link.qcow2 resolves to a ` +
          'location outside secondary storage (through a symbolic link); refused',
      );
      await symlink(join(root, 'outside'), inSecondary('uploads/dir'));
      expect((await refused('uploads/dir/secret.qcow2')).message).toContain('outside secondary storage');

      expect((await refused('uploads/nothing.qcow2')).message).toContain('uploads/nothing.qcow2 does not exist');
      expect((await refused('uploads')).message).toContain('uploads is not a regular file');
      expect(await readdir(driver.workDir)).toEqual([]);
    });
  });

  describe('deleteTemplate', () => {
    it('removes the template image, then reports it already gone', async () => {
      const templateId = randomUUID();
      await plainImage(inSecondary('uploads/t.qcow2'));
      await driver.importTemplate(templateId, 'uploads/t.qcow2');
      expect(await exists(inSecondary(templatePath(templateId)))).toBe(true);

      await expect(driver.deleteTemplate(templateId)).resolves.toEqual({ alreadyGone: false });
      expect(await exists(inSecondary(templatePath(templateId)))).toBe(false);
      await expect(driver.deleteTemplate(templateId)).resolves.toEqual({ alreadyGone: true });
      // The operator's upload is theirs.
      expect(await exists(inSecondary('uploads/t.qcow2'))).toBe(true);
      await expect(driver.deleteTemplate('../x')).rejects.toThrow('Invalid template id');
    });
  });

  describe('destroyVolume (through the DESTROY_VOLUMES handler)', () => {
    it('removes each volume file with its snapshots, and succeeds again once they are gone', async () => {
      const { volumeId: first } = await volumeWithSnapshot();
      const second = randomUUID();
      await driver.createVolume(second, 1);
      const keep = randomUUID();
      await driver.createVolume(keep, 1);
      const handler = new DestroyVolumesHandler(new AgentDrivers(driver));

      expect(await handler.handle({ volumeIds: [first, second] })).toEqual({
        ok: true,
        data: { destroyed: [first, second] },
        message: 'Destroyed 2 volume(s)',
      });
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${keep}.qcow2`]);

      expect(await handler.handle({ volumeIds: [first, second] })).toEqual({
        ok: true,
        data: { destroyed: [first, second] },
        message: 'Destroyed 0 volume(s); 2 already gone',
      });
      expect(await handler.handle({ volumeIds: [keep, '../../etc/passwd'] })).toMatchObject({ ok: false });
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${keep}.qcow2`]);
    });

    it('destroys the volumes of a named instance: a node without an instance port has nothing of it to forget', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      const handler = new DestroyVolumesHandler(new AgentDrivers(driver));
      expect(await handler.handle({ volumeIds: [volumeId], instanceId: randomUUID() })).toEqual({
        ok: true,
        data: { destroyed: [volumeId] },
        message: 'Destroyed 1 volume(s)',
      });
      expect(await driver.volumeExists(volumeId)).toBe(false);
      expect(await handler.handle({ volumeIds: [volumeId], instanceId: 'nope' })).toMatchObject({
        ok: false,
        message: 'Invalid instance id "nope": expected a UUID',
      });
    });
  });
});
