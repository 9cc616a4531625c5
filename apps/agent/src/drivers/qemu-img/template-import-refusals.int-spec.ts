import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, mkdtemp, open, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { templatePath, transferPath } from '@snapdeck/contracts';
import { describeWith } from '@snapdeck/testing';
import { ImportTemplateHandler } from '../../handlers/import-template.handler.js';
import { exists, failure } from './driver-assertions.test-support.js';
import { QemuImgDriver } from './qemu-img.driver.js';
import { copyWithReadTimeout, StalledReadError } from './secondary-storage.js';

const run = promisify(execFile);

/**
 * registerTemplate's agent side on real files: what a path check cannot see (a second hard link, a FIFO, a
 * symbolic link into a folder the agents write) is refused on disk, and a read that stalls fails instead of
 * holding the job.
 */
describeWith(['qemu-img'], 'QemuImgDriver.importTemplate refuses what is not an operator’s own regular file', () => {
  let root: string;
  let secondaryDir: string;
  let driver: QemuImgDriver;
  const templateId = randomUUID();
  const inSecondary = (path: string) => join(secondaryDir, path);

  beforeEach(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'snapdeck-import-refusals-')));
    secondaryDir = join(root, 'secondary');
    driver = new QemuImgDriver({ storageDir: join(root, 'primary'), secondaryDir, secondaryReadTimeoutMs: 500 });
    await driver.init();
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function plainImage(path: string): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', path, '64M']);
    return path;
  }

  /** The import fails with a DriverError, writes no template, leaves no private copy, names no host path. */
  async function refused(path: string): Promise<string> {
    const error = await failure(driver.importTemplate(templateId, path));
    expect(error.message).not.toContain(root);
    expect(await exists(inSecondary(templatePath(templateId)))).toBe(false);
    expect(await readdir(driver.workDir)).toEqual([]);
    return error.message;
  }

  it('still imports a plain file with one link (the control case)', async () => {
    await plainImage(inSecondary('uploads/good.qcow2'));
    await expect(driver.importTemplate(templateId, 'uploads/good.qcow2')).resolves.toMatchObject({
      alreadyExisted: false,
    });
    expect(await exists(inSecondary(templatePath(templateId)))).toBe(true);
  });

  it('refuses a hard link to a file outside secondary storage', async () => {
    const secret = await plainImage(join(root, 'outside', 'secret.qcow2'));
    await mkdir(inSecondary('uploads'), { recursive: true });
    await link(secret, inSecondary('uploads/hard.qcow2'));
    expect(await refused('uploads/hard.qcow2')).toBe(
      `Could not import template ${templateId} from uploads/hard.qcow2: uploads/hard.qcow2 has 2 hard links; ` +
        'only a file with a single link is imported (another link may be a file outside secondary storage or a ' +
        'template of another organization)',
    );
  });

  it("refuses another organization's template by its templates/ path, directly or through links", async () => {
    const other = randomUUID();
    await plainImage(inSecondary(templatePath(other)));
    expect(await refused(templatePath(other))).toBe(
      `Could not import template ${templateId} from ${templatePath(other)}: ${templatePath(other)} is under ` +
        'templates/, which the agents write; an image to import must be placed elsewhere in secondary storage',
    );
    await mkdir(inSecondary('uploads'), { recursive: true });
    // A symbolic link stays inside secondary storage, so only the real path shows where it leads.
    await symlink(`../templates/${other}.qcow2`, inSecondary('uploads/alias.qcow2'));
    expect(await refused('uploads/alias.qcow2')).toContain(
      'uploads/alias.qcow2 resolves (through a symbolic link) to a file under templates/, which the agents write',
    );
    await symlink('../templates', inSecondary('uploads/dir'));
    expect(await refused(`uploads/dir/${other}.qcow2`)).toContain('under templates/');
    // A hard link to it has two links.
    await link(inSecondary(templatePath(other)), inSecondary('uploads/hard.qcow2'));
    expect(await refused('uploads/hard.qcow2')).toContain('has 2 hard links');
    // The other organization's template is untouched.
    expect((await stat(inSecondary(templatePath(other)))).nlink).toBe(2);
  });

  it('refuses a snapshot in transit under transfers/', async () => {
    const transfer = transferPath(randomUUID());
    await plainImage(inSecondary(transfer));
    expect(await refused(transfer)).toContain(`${transfer} is under transfers/, which the agents write`);
  });

  it('refuses a FIFO at once (no writer ever opens it), and the job fails with that message', async () => {
    await mkdir(inSecondary('uploads'), { recursive: true });
    await run('mkfifo', [inSecondary('uploads/pipe.qcow2')]);
    const started = Date.now();
    expect(await refused('uploads/pipe.qcow2')).toBe(
      `Could not import template ${templateId} from uploads/pipe.qcow2: uploads/pipe.qcow2 is not a regular file ` +
        '(it is a FIFO (named pipe)); refused',
    );
    // Refused by fstat, not by the read timeout (500 ms here).
    expect(Date.now() - started).toBeLessThan(500);

    const outcome = await new ImportTemplateHandler(driver).handle({ templateId, path: 'uploads/pipe.qcow2' });
    expect(outcome).toEqual({
      ok: false,
      message: expect.stringContaining('uploads/pipe.qcow2 is not a regular file (it is a FIFO') as unknown,
      retryable: false,
    });
  });

  it('a read that stalls fails with StalledReadError after the timeout instead of hanging', async () => {
    // A FIFO opened read-write never blocks the open and its read waits for data nobody writes: a real stalled
    // read, which no regular file on a local disk can produce.
    const fifo = join(root, 'stalled.fifo');
    await run('mkfifo', [fifo]);
    const source = await open(fifo, constants.O_RDWR);
    const destination = join(root, 'copy.qcow2');
    try {
      const started = Date.now();
      const error = await copyWithReadTimeout(source, destination, 300, 'Could not import x: reading uploads/x').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StalledReadError);
      expect((error as Error).message).toBe(
        'Could not import x: reading uploads/x: no data for 300 ms; the read was abandoned',
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      // Ends the abandoned read (it gets these bytes), so that the descriptor can close.
      const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      await writer.write(Buffer.from('x'));
      await writer.close();
      await source.close();
    }
  });

  it('copies data that arrives in time, chunk after chunk, through the same function', async () => {
    const file = join(root, 'data.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
    await writeFile(file, data);
    const source = await open(file, constants.O_RDONLY);
    try {
      await copyWithReadTimeout(source, join(root, 'copy.bin'), 300, 'copy');
    } finally {
      await source.close();
    }
    expect((await stat(join(root, 'copy.bin'))).size).toBe(data.length);
  });
});
