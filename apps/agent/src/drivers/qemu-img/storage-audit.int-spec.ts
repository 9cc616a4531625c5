import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JobFailureReason, templatePath } from '@snapdeck/contracts';
import { describeWith } from '@snapdeck/testing';
import { SnapshotSlots } from '../../jobs/snapshot-slots.js';
import { RepairStorageHandler } from '../../handlers/repair-storage.handler.js';
import { failure } from './driver-assertions.test-support.js';
import {
  corruptRefcount,
  countDataClustersTwice,
  leakClusters,
  misplaceL2Table,
  setCorruptBit,
} from './qcow2-damage.test-support.js';
import { QemuImgDriver } from './qemu-img.driver.js';
import { QemuImgRunner } from './qemu-img-runner.js';

const run = promisify(execFile);
const GIB = 1024 ** 3;
const BOUND = { checkTimeoutMs: 30_000 };

/** `qemu-img check --output=json` read directly, not through the driver under test. */
async function diskCheck(path: string): Promise<{ exitCode: number; leaks: number; corruptions: number }> {
  try {
    const { stdout } = await run('qemu-img', ['check', '-f', 'qcow2', '--output=json', path]);
    return { exitCode: 0, ...counts(stdout) };
  } catch (error) {
    const { code, stdout } = error as { code: number; stdout: string };
    return { exitCode: code, ...counts(stdout) };
  }
}

function counts(stdout: string): { leaks: number; corruptions: number } {
  const report = JSON.parse(stdout) as { leaks?: number; corruptions?: number };
  return { leaks: report.leaks ?? 0, corruptions: report.corruptions ?? 0 };
}

/** A process holding the image's qcow2 write lock, as a running domain's QEMU does, until it is ended. */
async function holdImage(path: string): Promise<ChildProcess> {
  const holder = spawn('qemu-io', ['-f', 'qcow2', path], { stdio: ['pipe', 'ignore', 'ignore'] });
  for (let i = 0; i < 100; i++) {
    const held = await run('qemu-img', ['info', '-f', 'qcow2', path]).then(
      () => false,
      (error: { stderr: string }) => /lock/.test(error.stderr),
    );
    if (held) return holder;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  holder.kill('SIGKILL');
  throw new Error('qemu-io never took the lock');
}

async function release(holder: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  holder.stdin?.end();
  holder.kill('SIGKILL');
  await exited;
}

describeWith(['qemu-img'], 'storage audit on real qcow2 files (qemu-img driver)', () => {
  let storageDir: string;
  let secondaryDir: string;
  let driver: QemuImgDriver;

  beforeEach(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'snapdeck-audit-'));
    secondaryDir = join(storageDir, 'secondary');
    driver = new QemuImgDriver({ storageDir, secondaryDir });
    await driver.init();
  });

  afterEach(async () => {
    await rm(storageDir, { recursive: true, force: true });
  });

  const volumeFile = (volumeId: string) => join(storageDir, 'volumes', `${volumeId}.qcow2`);
  const journalEntries = () => readdir(join(storageDir, '.snapdeck', 'dirty'));

  describe('inventory', () => {
    it('lists volumes with their tags (a stray one made behind its back too), a template and a transfer', async () => {
      const volumeId = randomUUID();
      const other = randomUUID();
      const snapshotId = randomUUID();
      const templateId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createVolume(other, 2);
      await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 1M', volumeFile(volumeId)]);
      await driver.createSnapshot(volumeId, snapshotId);
      await driver.exportSnapshot(volumeId, snapshotId, templatePath(templateId));
      await driver.exportSnapshot(volumeId, snapshotId, 'transfers/job-1.qcow2');
      const stray = 'made-by-hand';
      await run('qemu-img', ['snapshot', '-c', stray, volumeFile(other)]);

      const before = Date.now();
      const { takenAt, images } = await driver.inventory(BOUND);

      expect(Date.parse(takenAt)).toBeLessThanOrEqual(before + 1000);
      expect(images.map((i) => [i.kind, i.id, i.path])).toEqual(
        expect.arrayContaining([
          ['volume', volumeId, `volumes/${volumeId}.qcow2`],
          ['volume', other, `volumes/${other}.qcow2`],
          ['template', templateId, templatePath(templateId)],
          ['transfer', 'job-1', 'transfers/job-1.qcow2'],
        ]),
      );
      expect(images).toHaveLength(4);
      const volume = images.find((i) => i.id === volumeId)!;
      expect(volume).toMatchObject({ virtualSizeBytes: GIB, inUse: false, check: { status: 'clean' } });
      expect(volume.sizeBytes).toBeGreaterThan(1024 * 1024);
      expect(Number.isNaN(Date.parse(volume.modifiedAt))).toBe(false);
      expect(volume.tags).toEqual([{ tag: snapshotId, createdAt: expect.any(String), vmStateBytes: 0 }]);
      expect(Math.abs(Date.parse(volume.tags[0].createdAt) - before)).toBeLessThan(60_000);
      expect(images.find((i) => i.id === other)?.tags.map((t) => t.tag)).toEqual([stray]);
      expect(images.find((i) => i.kind === 'template')).toMatchObject({ virtualSizeBytes: GIB, tags: [] });
      expect(JSON.stringify(images)).not.toContain(storageDir);
    });

    it('does not list temporary files or names outside the layout, and calls a garbage volume unreadable', async () => {
      const volumeId = randomUUID();
      const garbage = randomUUID();
      await driver.createVolume(volumeId, 1);
      await writeFile(`${volumeFile(volumeId)}.partial-${randomUUID()}`, 'half an image');
      await writeFile(volumeFile(garbage), 'not a qcow2 at all');
      await writeFile(join(storageDir, 'volumes', 'notes.txt'), 'an operator file');
      await mkdir(join(secondaryDir, 'templates'), { recursive: true });
      await writeFile(join(secondaryDir, 'templates', `${randomUUID()}.qcow2.partial-${randomUUID()}`), 'half');

      const { images } = await driver.inventory(BOUND);

      expect(images.map((i) => i.id).sort()).toEqual([volumeId, garbage].sort());
      expect(images.find((i) => i.id === garbage)).toMatchObject({
        virtualSizeBytes: null,
        tags: [],
        check: { status: 'unreadable', message: 'not a qcow2 image' },
      });
    });

    it('classifies leaked clusters as leaks and a zeroed refcount of a used cluster as corrupt', async () => {
      const leaky = randomUUID();
      const corrupt = randomUUID();
      await driver.createVolume(leaky, 1);
      await driver.createVolume(corrupt, 1);
      await leakClusters(volumeFile(leaky), 3);
      await corruptRefcount(volumeFile(corrupt));
      expect(await diskCheck(volumeFile(leaky))).toEqual({ exitCode: 3, leaks: 3, corruptions: 0 });

      const { images } = await driver.inventory(BOUND);

      expect(images.find((i) => i.id === leaky)?.check).toEqual({
        status: 'leaks',
        leakedClusters: 3,
        message: '3 leaked cluster(s): harmless, repairable with qemu-img check -r leaks',
      });
      expect(images.find((i) => i.id === corrupt)?.check).toMatchObject({ status: 'corrupt', corruptions: 1 });
      // The inventory only reads: the leaks are still there.
      expect((await diskCheck(volumeFile(leaky))).leaks).toBe(3);
    });

    it('kills a check that runs out of its bound and reports timeout', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      // qemu-img itself for everything but check, which hangs: the bound, not the image, decides.
      const slow = join(storageDir, 'slow-qemu-img');
      await writeFile(slow, '#!/bin/sh\nif [ "$1" = check ]; then exec sleep 60; fi\nexec qemu-img "$@"\n');
      await chmod(slow, 0o755);
      const slowDriver = new QemuImgDriver({ storageDir, secondaryDir, runner: new QemuImgRunner({ binary: slow }) });

      const { images } = await slowDriver.inventory({ checkTimeoutMs: 300 });

      expect(images).toEqual([
        expect.objectContaining({
          id: volumeId,
          virtualSizeBytes: GIB,
          check: { status: 'timeout', message: 'qemu-img check did not finish within 300 ms' },
        }),
      ]);
    });

    it('reads an image another process holds with -U, and says it is in use', async () => {
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createSnapshot(volumeId, snapshotId);
      const holder = await holdImage(volumeFile(volumeId));
      try {
        const { images } = await driver.inventory(BOUND);
        expect(images).toEqual([
          expect.objectContaining({
            id: volumeId,
            inUse: true,
            tags: [expect.objectContaining({ tag: snapshotId })],
            check: { status: 'clean' },
          }),
        ]);
      } finally {
        await release(holder);
      }
    });
  });

  describe('a snapshot missing on disk (preflight)', () => {
    it('fails revert, export and clone with the SNAPSHOT_MISSING reason, before qemu-img is asked', async () => {
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createSnapshot(volumeId, snapshotId);
      // Deleted behind the agent's back.
      await run('qemu-img', ['snapshot', '-d', snapshotId, volumeFile(volumeId)]);
      const missing = `snapshot ${snapshotId} is missing from volume ${volumeId} on disk`;

      const revert = await failure(driver.revertSnapshot(volumeId, snapshotId));
      const exported = await failure(driver.exportSnapshot(volumeId, snapshotId, 'transfers/x.qcow2'));
      const clone = await failure(driver.createVolume(randomUUID(), 1, { kind: 'snapshot', volumeId, snapshotId }));

      for (const error of [revert, exported, clone]) {
        expect(error.message).toContain(missing);
        expect(error.reason).toBe(JobFailureReason.SNAPSHOT_MISSING);
      }
      expect(await readdir(join(secondaryDir, 'transfers')).catch(() => [])).toEqual([]);
    });

    it('a write to an image qcow2 calls corrupt fails with the IMAGE_DAMAGED reason', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await setCorruptBit(volumeFile(volumeId));
      const error = await failure(driver.createSnapshot(volumeId, randomUUID()));
      expect(error.reason).toBe(JobFailureReason.IMAGE_DAMAGED);
      expect(error.message).toContain('Image is corrupt');
      expect(error.message).not.toContain(storageDir);
    });

    it('a delete of a tag already gone is alreadyGone, with no error', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await expect(driver.deleteSnapshot(volumeId, randomUUID())).resolves.toEqual({ alreadyGone: true });
    });
  });

  describe('the image journal and the start-up check', () => {
    it('journals the image (durably, before qemu-img runs) for snapshot create, delete and revert, and clears it after', async () => {
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      const seen: string[][] = [];
      const journal = join(storageDir, '.snapdeck', 'dirty');
      class WatchingRunner extends QemuImgRunner {
        override async run(args: readonly string[], options?: { timeoutMs?: number }): Promise<string> {
          if (args[0] === 'snapshot') seen.push([args[2], ...(await readdir(journal))]);
          return super.run(args, options);
        }
      }
      const watched = new QemuImgDriver({ storageDir, secondaryDir, runner: new WatchingRunner() });
      await watched.init();
      await watched.createVolume(volumeId, 1);
      await watched.createSnapshot(volumeId, snapshotId);
      await watched.revertSnapshot(volumeId, snapshotId);
      await watched.deleteSnapshot(volumeId, snapshotId);

      expect(seen).toEqual([
        ['-c', volumeId],
        ['-a', volumeId],
        ['-d', volumeId],
      ]);
      expect(await journalEntries()).toEqual([]);
    });

    it('repairs the leaks of an image a crash left journaled, says so, and forgets it', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createSnapshot(volumeId, randomUUID());
      await leakClusters(volumeFile(volumeId), 4);
      await driver.journal.mark(volumeId, 'snapshot -c');

      const restarted = new QemuImgDriver({ storageDir, secondaryDir });
      await restarted.init();
      const found = await restarted.checkInterruptedImages({ timeoutMs: 60_000 });

      expect(found).toEqual([
        {
          volumeId,
          status: 'repaired',
          check: { status: 'clean' },
          leakedClusters: 4,
          message: '4 leaked cluster(s) repaired with qemu-img check -r leaks',
        },
      ]);
      expect(await diskCheck(volumeFile(volumeId))).toEqual({ exitCode: 0, leaks: 0, corruptions: 0 });
      expect(await journalEntries()).toEqual([]);
    });

    /**
     * The start-up check recounts the journaled volume with `message`; after, it checks clean, is out of the
     * journal, and still holds the 0x5a written before.
     */
    async function expectRecounted(volumeId: string, message: unknown): Promise<void> {
      expect(await driver.checkInterruptedImages({ timeoutMs: 60_000 })).toEqual([
        expect.objectContaining({ volumeId, status: 'repaired', check: { status: 'clean' }, message }),
      ]);
      expect(await diskCheck(volumeFile(volumeId))).toEqual({ exitCode: 0, leaks: 0, corruptions: 0 });
      expect(await journalEntries()).toEqual([]);
      const read = await run('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x5a 0 1M', volumeFile(volumeId)]);
      expect(read.stdout).not.toMatch(/Pattern verification failed/);
    }

    it('recounts refcounts a snapshot create cut short left lower than the references, and the snapshot reads back', async () => {
      const volumeId = randomUUID();
      const snapshotId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 1M', volumeFile(volumeId)]);
      await driver.createSnapshot(volumeId, snapshotId);
      await corruptRefcount(volumeFile(volumeId));
      await driver.journal.mark(volumeId, 'snapshot -c');

      await expectRecounted(
        volumeId,
        expect.stringMatching(/^1 refcount\(s\) or COPIED flag\(s\) .* recounted with qemu-img check -r all$/),
      );
    });

    it('recounts data clusters a snapshot create counted twice but left flagged COPIED, and the data reads back', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 1M', volumeFile(volumeId)]);
      const counted = await countDataClustersTwice(volumeFile(volumeId));
      await driver.journal.mark(volumeId, 'snapshot -c');
      expect(await diskCheck(volumeFile(volumeId))).toEqual({ exitCode: 2, leaks: counted, corruptions: counted });

      await expectRecounted(
        volumeId,
        `${counted} refcount(s) or COPIED flag(s) disagreeing with the references and ${counted} leaked cluster(s) ` +
          '(a snapshot create cut short): recounted with qemu-img check -r all',
      );
    });

    it('calls a corrupt image damaged, forgets a clean one silently, and skips a destroyed one', async () => {
      const corrupt = randomUUID();
      const clean = randomUUID();
      const destroyed = randomUUID();
      for (const id of [corrupt, clean, destroyed]) {
        await driver.createVolume(id, 1);
        await driver.journal.mark(id, 'snapshot -d');
      }
      await misplaceL2Table(volumeFile(corrupt));
      await rm(volumeFile(destroyed));

      const found = await driver.checkInterruptedImages({ timeoutMs: 60_000 });

      expect(found).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            volumeId: corrupt,
            status: 'damaged',
            check: expect.objectContaining({ status: 'corrupt' }),
          }),
          expect.objectContaining({ volumeId: clean, status: 'clean' }),
        ]),
      );
      expect(found).toHaveLength(2);
      expect(await journalEntries()).toEqual([]);
    });

    it('never repairs an image another process holds: it stays journaled for the next start', async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await leakClusters(volumeFile(volumeId), 2);
      await driver.journal.mark(volumeId, 'snapshot -c');
      const holder = await holdImage(volumeFile(volumeId));
      try {
        // The start-up check waits for the holder (at most its bound, here 1.5 s), then leaves the image alone.
        const found = await driver.checkInterruptedImages({ timeoutMs: 1500 });
        expect(found).toEqual([
          expect.objectContaining({ volumeId, status: 'deferred', message: expect.stringMatching(/still holds/) }),
        ]);
      } finally {
        await release(holder);
      }
      expect(await journalEntries()).toEqual([volumeId]);
      expect((await diskCheck(volumeFile(volumeId))).leaks).toBe(2);
    });
    it("waits for a process that still holds a journaled image (a killed agent's qemu-img child) and checks it after", async () => {
      const volumeId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await leakClusters(volumeFile(volumeId), 3);
      await driver.journal.mark(volumeId, 'snapshot -c');
      const holder = await holdImage(volumeFile(volumeId));
      const started = Date.now();
      const letGo = setTimeout(() => void release(holder), 1000);
      try {
        const found = await driver.checkInterruptedImages({ timeoutMs: 60_000 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
        expect(found).toEqual([expect.objectContaining({ volumeId, status: 'repaired', leakedClusters: 3 })]);
      } finally {
        clearTimeout(letGo);
        if (holder.exitCode === null && holder.signalCode === null) await release(holder);
      }
      expect(await journalEntries()).toEqual([]);
      expect(await diskCheck(volumeFile(volumeId))).toEqual({ exitCode: 0, leaks: 0, corruptions: 0 });
    });
  });

  describe('REPAIR_STORAGE', () => {
    it('removes an orphan tag, volume, template and transfer from disk, and again finds them gone', async () => {
      const volumeId = randomUUID();
      const orphan = randomUUID();
      const tag = randomUUID();
      const templateId = randomUUID();
      await driver.createVolume(volumeId, 1);
      await driver.createVolume(orphan, 1);
      await run('qemu-img', ['snapshot', '-c', tag, volumeFile(volumeId)]);
      await driver.createSnapshot(volumeId, randomUUID());
      const [kept] = await driver.listSnapshots(volumeId).then((s) => s.filter((t) => t.tag !== tag));
      await driver.exportSnapshot(volumeId, kept.tag, templatePath(templateId));
      await driver.exportSnapshot(volumeId, kept.tag, 'transfers/t.qcow2');
      const handler = new RepairStorageHandler(driver, new SnapshotSlots(2));
      const payload = {
        tags: [{ volumeId, tag }],
        volumeIds: [orphan],
        templateIds: [templateId],
        transferPaths: ['transfers/t.qcow2'],
      };

      for (let round = 0; round < 2; round++) {
        expect(await handler.handle(payload)).toMatchObject({ ok: true, data: { failed: [] } });
      }

      expect((await driver.listSnapshots(volumeId)).map((s) => s.tag)).toEqual([kept.tag]);
      expect(await readdir(join(storageDir, 'volumes'))).toEqual([`${volumeId}.qcow2`]);
      expect(await readdir(join(secondaryDir, 'templates'))).toEqual([]);
      expect(await readdir(join(secondaryDir, 'transfers'))).toEqual([]);
    });
  });
});
