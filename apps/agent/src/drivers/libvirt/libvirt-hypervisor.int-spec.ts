import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describeWith } from '@snapdeck/testing';
import { InstanceNotRunningError } from './domains.js';
import { UnsupportedOperationError } from './instance-snapshots.js';
import { LibvirtHypervisor } from './libvirt-hypervisor.js';
import { QuiesceError } from './quiesce.js';

const run = promisify(execFile);
const URI = 'qemu:///system';
const SLOW = 240_000;

/*
 * Proof against a real libvirtd: domains of type qemu (TCG, no guest OS) on qcow2 files in a temporary folder.
 * A guest's writes are simulated with HMP `qemu-io` on the disk's QOM path. qemu-io reports (including "Pattern
 * verification failed") go to QEMU's stdout, i.e. the domain's log file, not to the monitor: a live read check
 * therefore reads the log's new lines. Offline checks use qemu-io on the file, which exits 1 on a mismatch.
 */
describeWith(['libvirt', 'qemu-img'], 'LibvirtHypervisor on a real libvirtd', () => {
  let dir: string;
  const hv = new LibvirtHypervisor({ uri: URI, domainType: 'qemu', pollIntervalMs: 100 });
  const instances: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapdeck-libvirt-'));
    // libvirt runs QEMU as libvirt-qemu: every folder on the way to a disk must be traversable (mkdtemp makes 0700).
    await chmod(dir, 0o755);
  });

  afterAll(async () => {
    for (const id of instances) {
      const domain = `i-${id}`;
      await run('virsh', ['-c', URI, 'destroy', domain]).catch(() => undefined);
      await run('virsh', ['-c', URI, 'undefine', domain, '--snapshots-metadata']).catch(() => undefined);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A new instance id with blank qcow2 volumes of these sizes (MiB), remembered for cleanup. */
  async function newInstance(...sizesMiB: number[]): Promise<{ id: string; domain: string; paths: string[] }> {
    const id = randomUUID();
    instances.push(id);
    const paths: string[] = [];
    for (const [index, size] of sizesMiB.entries()) {
      const path = join(dir, `${id}-${index}.qcow2`);
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', path, `${size}M`]);
      paths.push(path);
    }
    return { id, domain: `i-${id}`, paths };
  }

  const qdev = (disk: number) => `/machine/peripheral/virtio-disk${disk}/virtio-backend`;

  /** A guest write: qemu-io inside the running QEMU, on the disk's device. */
  async function liveWrite(domain: string, disk: number, pattern: string, offset: string, length: string) {
    await hv.virsh.hmp(domain, `qemu-io -d ${qdev(disk)} "write -P ${pattern} ${offset} ${length}"`);
  }

  /** Whether the running disk holds `pattern` there: qemu-io read -P, judged from the domain's log. */
  async function liveRead(domain: string, disk: number, pattern: string, offset: string, length: string) {
    const log = `/var/log/libvirt/qemu/${domain}.log`;
    const before = (await stat(log)).size;
    await hv.virsh.hmp(domain, `qemu-io -d ${qdev(disk)} "read -P ${pattern} ${offset} ${length}"`);
    for (let i = 0; i < 100; i++) {
      const text = (await readFile(log)).subarray(before).toString('utf8');
      // qemu-io prints "Pattern verification failed …" before its "read N/N bytes at offset …" line.
      if (/^read \d+\/\d+ bytes at offset/m.test(text)) return !text.includes('Pattern verification failed');
      await sleep(50);
    }
    throw new Error(`no qemu-io report appeared in ${log}`);
  }

  /** Whether the file (offline) holds `pattern` there: qemu-io exits 1 when the data differ. */
  async function fileHolds(path: string, pattern: string, offset: string, length: string): Promise<boolean> {
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

  async function virsh(...args: string[]): Promise<string> {
    return (await run('virsh', ['-c', URI, ...args])).stdout;
  }

  async function expectCleanImage(path: string): Promise<void> {
    await run('qemu-img', ['check', '-q', '-f', 'qcow2', path]); // exits non-zero on any error or leak
    const { stdout } = await run('qemu-img', ['info', '--backing-chain', '-f', 'qcow2', '--output=json', path]);
    const chain = JSON.parse(stdout) as { filename: string; 'backing-filename'?: string }[];
    expect(chain).toHaveLength(1);
    expect(chain[0]?.['backing-filename']).toBeUndefined();
  }

  it('reports an undefined instance as MISSING and refuses live work on it', async () => {
    const id = randomUUID();
    await expect(hv.domains.instanceState(id)).resolves.toBe('MISSING');
    await expect(hv.domains.stop(id, { timeoutMs: 100 })).resolves.toEqual({ alreadyStopped: true, forced: false });
    await expect(hv.liveSnapshots.create(id, 0, randomUUID())).rejects.toBeInstanceOf(InstanceNotRunningError);
  });

  it(
    'starts a persistent domain (RUNNING, idempotent) and stops a guest that ignores ACPI by force (STOPPED)',
    async () => {
      const { id, domain, paths } = await newInstance(64, 32);
      await expect(hv.domains.start(id, paths)).resolves.toEqual({ alreadyRunning: false, domainType: 'qemu' });
      await expect(hv.domains.instanceState(id)).resolves.toBe('RUNNING');
      await expect(hv.domains.start(id, paths)).resolves.toEqual({ alreadyRunning: true, domainType: 'qemu' });
      await expect(hv.domains.start(id, [paths[0]])).rejects.toThrow('stop it first');

      // Persistent, not transient: the domain outlives this process.
      expect(await virsh('dominfo', domain)).toMatch(/Persistent:\s+yes/);
      const blk = await virsh('domblklist', domain);
      expect(blk).toMatch(/vda\s+\S+-0\.qcow2/);
      expect(blk).toMatch(/vdb\s+\S+-1\.qcow2/);
      const xml = await virsh('dumpxml', domain);
      expect(xml).toContain("name='org.qemu.guest_agent.0'");
      expect(xml).toMatch(/<domain type='qemu'/);

      const t0 = performance.now();
      await expect(hv.domains.stop(id, { timeoutMs: 1500 })).resolves.toEqual({ alreadyStopped: false, forced: true });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1500);
      await expect(hv.domains.instanceState(id)).resolves.toBe('STOPPED');
      await expect(hv.domains.stop(id, { timeoutMs: 1500 })).resolves.toEqual({ alreadyStopped: true, forced: false });

      // Started again from its (re)definition, same UUID.
      await expect(hv.domains.start(id, paths)).resolves.toEqual({ alreadyRunning: false, domainType: 'qemu' });
      expect((await virsh('domuuid', domain)).trim()).toBe(id);
      await hv.domains.stop(id, { timeoutMs: 200 });
      for (const path of paths) await expectCleanImage(path);
    },
    SLOW,
  );

  it(
    'takes a live volume snapshot the offline driver can revert, with no chain, while the guest keeps writing',
    async () => {
      const { id, domain, paths } = await newInstance(256, 64);
      const [root, data] = paths as [string, string];
      await hv.domains.start(id, paths);
      await liveWrite(domain, 0, '0xab', '0', '4M');
      expect(await liveRead(domain, 0, '0xab', '0', '4M')).toBe(true);
      expect(await liveRead(domain, 0, '0xcd', '0', '4M')).toBe(false); // the live check can say no

      const tag = randomUUID();
      const taken = await hv.liveSnapshots.create(id, 0, tag, { quiesce: false });
      expect(taken).toMatchObject({ alreadyExisted: false, quiesced: false, target: 'vda' });
      expect(taken.nodeName).toMatch(/^libvirt-\d+-format$/);
      process.stdout.write(
        `live snapshot of a running domain: guest pause ≤ ${taken.guestPauseMs} ms, total ${taken.durationMs} ms\n`,
      );

      // Still running, still writing to its own file: no overlay was put in front of it.
      await liveWrite(domain, 0, '0xcd', '0', '4M');
      await expect(hv.domains.instanceState(id)).resolves.toBe('RUNNING');
      expect(await virsh('domstate', domain)).toContain('running');
      expect(await virsh('domblklist', domain)).toContain(root);
      expect(await liveRead(domain, 0, '0xcd', '0', '4M')).toBe(true);

      // A repeated delivery: success, nothing taken.
      await expect(hv.liveSnapshots.create(id, 'vda', tag)).resolves.toMatchObject({ alreadyExisted: true });
      await expect(hv.liveSnapshots.list(id, 0)).resolves.toEqual([tag]);
      // One of a quiesced job: its tag proves the first try froze the guest; the thaw that try may have missed is
      // tried again (this guest has no agent to answer it) and the delivery still succeeds.
      await expect(hv.liveSnapshots.create(id, 'vda', tag, { quiesce: true })).resolves.toMatchObject({
        alreadyExisted: true,
        quiesced: true,
      });

      // A DATA disk: found by index although QEMU's node names run the other way (vda = libvirt-2-format).
      const dataTag = randomUUID();
      await liveWrite(domain, 1, '0x11', '1M', '1M');
      await expect(hv.liveSnapshots.create(id, 1, dataTag)).resolves.toMatchObject({ target: 'vdb' });
      await liveWrite(domain, 1, '0x12', '1M', '1M');
      await expect(hv.liveSnapshots.list(id, data)).resolves.toEqual([dataTag]);
      await expect(hv.liveSnapshots.list(id, 0)).resolves.toEqual([tag]);

      // Delete while running, idempotently.
      const gone = randomUUID();
      await hv.liveSnapshots.create(id, 0, gone);
      await expect(hv.liveSnapshots.delete(id, 0, gone)).resolves.toEqual({ alreadyGone: false });
      await expect(hv.liveSnapshots.delete(id, 0, gone)).resolves.toEqual({ alreadyGone: true });
      await expect(hv.liveSnapshots.create(id, 7, randomUUID())).rejects.toThrow(
        'has no disk 7 (vdh) (it has vda, vdb)',
      );
      await expect(hv.liveSnapshots.create(id, 26, randomUUID())).rejects.toThrow('out of range');

      await hv.domains.stop(id, { timeoutMs: 300 });
      await expect(hv.liveSnapshots.create(id, 0, randomUUID())).rejects.toBeInstanceOf(InstanceNotRunningError);

      // What the offline qemu-img driver sees: its own kind of snapshot, revertible and convertible.
      expect(await tags(root)).toEqual([tag]);
      expect(await tags(data)).toEqual([dataTag]);
      await expectCleanImage(root);
      await expectCleanImage(data);
      expect(await fileHolds(root, '0xcd', '0', '4M')).toBe(true);
      const clone = join(dir, `${id}-clone.qcow2`);
      await run('qemu-img', ['convert', '-O', 'qcow2', '-l', `snapshot.name=${tag}`, root, clone]);
      expect(await fileHolds(clone, '0xab', '0', '4M')).toBe(true);
      await run('qemu-img', ['snapshot', '-a', tag, root]);
      expect(await fileHolds(root, '0xab', '0', '4M')).toBe(true);
      expect(await fileHolds(root, '0xcd', '0', '4M')).toBe(false);
      await run('qemu-img', ['snapshot', '-a', dataTag, data]);
      expect(await fileHolds(data, '0x11', '1M', '1M')).toBe(true);
      await expectCleanImage(root);
    },
    SLOW,
  );

  it(
    'fails a quiesced snapshot clearly when the guest agent does not answer, and takes none',
    async () => {
      const { id, domain, paths } = await newInstance(64);
      await hv.domains.start(id, paths);
      const tag = randomUUID();
      const error = await hv.liveSnapshots.create(id, 0, tag, { quiesce: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuiesceError);
      expect((error as Error).message).toMatch(
        new RegExp(`quiesce requested but the QEMU guest agent of instance ${id} does not answer .*no snapshot`),
      );
      await expect(hv.liveSnapshots.list(id, 0)).resolves.toEqual([]);
      await expect(hv.instanceSnapshots.create(id, tag, { withMemory: false, quiesce: true })).rejects.toBeInstanceOf(
        QuiesceError,
      );
      await expect(hv.instanceSnapshots.kind(id, tag)).resolves.toBeNull();
      // The guest was left writable.
      await liveWrite(domain, 0, '0x42', '0', '64k');
      await expect(hv.domains.instanceState(id)).resolves.toBe('RUNNING');
      await hv.domains.stop(id, { timeoutMs: 200 });
      expect(await tags(paths[0])).toEqual([]);
    },
    SLOW,
  );

  it(
    'reverts an instance snapshot with memory on a running domain: RUNNING again, disk back to the point',
    async () => {
      const { id, domain, paths } = await newInstance(128, 32);
      await hv.domains.start(id, paths);
      await liveWrite(domain, 0, '0x21', '0', '4M');
      await liveWrite(domain, 1, '0x23', '0', '1M');
      const point = randomUUID();
      const created = await hv.instanceSnapshots.create(id, point, { withMemory: true, description: 'before change' });
      expect(created).toMatchObject({ alreadyExisted: false, kind: 'memory', quiesced: false });
      process.stdout.write(`instance snapshot with memory: ${created.durationMs} ms\n`);
      await expect(hv.instanceSnapshots.create(id, point, { withMemory: true })).resolves.toMatchObject({
        alreadyExisted: true,
      });
      await expect(
        hv.instanceSnapshots.create(id, randomUUID(), { withMemory: true, quiesce: true }),
      ).rejects.toBeInstanceOf(UnsupportedOperationError);
      expect(await virsh('snapshot-list', domain, '--name')).toContain(point);

      await liveWrite(domain, 0, '0x22', '0', '4M');
      await liveWrite(domain, 1, '0x24', '0', '1M');
      expect(await liveRead(domain, 0, '0x22', '0', '4M')).toBe(true);

      const t0 = performance.now();
      await expect(hv.instanceSnapshots.revert(id, point, { state: 'running' })).resolves.toEqual({
        kind: 'memory',
        state: 'RUNNING',
      });
      process.stdout.write(`revert to an instance snapshot with memory: ${Math.round(performance.now() - t0)} ms\n`);
      expect(await liveRead(domain, 0, '0x21', '0', '4M')).toBe(true);
      expect(await liveRead(domain, 0, '0x22', '0', '4M')).toBe(false);
      expect(await liveRead(domain, 1, '0x23', '0', '1M')).toBe(true);

      await expect(hv.instanceSnapshots.revert(id, point, { state: 'paused' })).resolves.toMatchObject({
        state: 'PAUSED',
      });
      await expect(hv.instanceSnapshots.revert(id, point, { state: 'stopped' })).resolves.toMatchObject({
        state: 'STOPPED',
      });
      expect(await fileHolds(paths[0], '0x21', '0', '4M')).toBe(true);
      await expectCleanImage(paths[0]);

      await expect(hv.instanceSnapshots.create(id, randomUUID(), { withMemory: true })).rejects.toThrow(
        'needs a running instance',
      );
      await expect(hv.instanceSnapshots.delete(id, point)).resolves.toEqual({ alreadyGone: false, kind: 'memory' });
      await expect(hv.instanceSnapshots.delete(id, point)).resolves.toEqual({ alreadyGone: true, kind: null });
      expect(await tags(paths[0])).toEqual([]);
      expect(await tags(paths[1])).toEqual([]);
    },
    SLOW,
  );

  it(
    'takes a disk-only instance snapshot of a running domain atomically (QMP transaction) and reverts it stopped',
    async () => {
      const { id, domain, paths } = await newInstance(64, 32);
      const [root, data] = paths as [string, string];
      await hv.domains.start(id, paths);
      await liveWrite(domain, 0, '0x51', '0', '1M');
      await liveWrite(domain, 1, '0x52', '0', '1M');
      const point = randomUUID();
      await expect(hv.instanceSnapshots.create(id, point, { withMemory: false })).resolves.toMatchObject({
        alreadyExisted: false,
        kind: 'disk',
        quiesced: false,
      });
      await expect(hv.instanceSnapshots.create(id, point, { withMemory: false })).resolves.toMatchObject({
        alreadyExisted: true,
      });
      await expect(hv.instanceSnapshots.kind(id, point)).resolves.toBe('disk');
      expect(await virsh('snapshot-list', domain, '--name')).not.toContain(point);
      await liveWrite(domain, 0, '0x61', '0', '1M');
      await liveWrite(domain, 1, '0x62', '0', '1M');

      await expect(hv.instanceSnapshots.revert(id, point, { state: 'running' })).rejects.toThrow(
        'can be reverted only while instance',
      );
      await hv.domains.stop(id, { timeoutMs: 200 });
      await expect(hv.instanceSnapshots.revert(id, point, { state: 'running' })).resolves.toEqual({
        kind: 'disk',
        state: 'RUNNING',
      });
      expect(await liveRead(domain, 0, '0x51', '0', '1M')).toBe(true);
      expect(await liveRead(domain, 1, '0x52', '0', '1M')).toBe(true);

      await expect(hv.instanceSnapshots.delete(id, point)).resolves.toEqual({ alreadyGone: false, kind: 'disk' });
      await expect(hv.instanceSnapshots.delete(id, point)).resolves.toEqual({ alreadyGone: true, kind: null });
      await hv.domains.stop(id, { timeoutMs: 200 });
      expect(await tags(root)).toEqual([]);
      expect(await tags(data)).toEqual([]);

      // On a stopped instance the same point is made with qemu-img, and reverted the same way.
      const offline = randomUUID();
      await expect(hv.instanceSnapshots.create(id, offline, { withMemory: false })).resolves.toMatchObject({
        kind: 'disk',
      });
      expect(await tags(root)).toEqual([offline]);
      await expect(hv.instanceSnapshots.revert(id, offline, { state: 'stopped' })).resolves.toEqual({
        kind: 'disk',
        state: 'STOPPED',
      });
      await expect(hv.instanceSnapshots.delete(id, offline)).resolves.toEqual({ alreadyGone: false, kind: 'disk' });
      await expectCleanImage(root);
      await expectCleanImage(data);
    },
    SLOW,
  );

  it(
    'keeps an instance snapshot and a volume snapshot of one instance revertible after each other (CloudStack #11428)',
    async () => {
      const { id, domain, paths } = await newInstance(64);
      const [root] = paths as [string];
      await hv.domains.start(id, paths);
      await liveWrite(domain, 0, '0x31', '0', '1M');
      const volumeSnapshot = randomUUID();
      await hv.liveSnapshots.create(id, 0, volumeSnapshot);
      await liveWrite(domain, 0, '0x32', '0', '1M');
      const point = randomUUID();
      await hv.instanceSnapshots.create(id, point, { withMemory: true });
      await liveWrite(domain, 0, '0x33', '0', '1M');

      // The memory revert with a volume snapshot in the image.
      await hv.instanceSnapshots.revert(id, point, { state: 'running' });
      expect(await liveRead(domain, 0, '0x32', '0', '1M')).toBe(true);
      await expect(hv.liveSnapshots.list(id, 0)).resolves.toEqual([volumeSnapshot, point]);

      // The volume revert (offline, as the qemu-img driver does it) with an instance snapshot in the image.
      await hv.domains.stop(id, { timeoutMs: 200 });
      await run('qemu-img', ['snapshot', '-a', volumeSnapshot, root]);
      expect(await fileHolds(root, '0x31', '0', '1M')).toBe(true);

      // The instance snapshot still reverts afterwards, from a stopped domain, to running.
      await expect(hv.instanceSnapshots.revert(id, point, { state: 'running' })).resolves.toMatchObject({
        state: 'RUNNING',
      });
      expect(await liveRead(domain, 0, '0x32', '0', '1M')).toBe(true);

      // Deleting one leaves the other.
      await hv.instanceSnapshots.delete(id, point);
      await expect(hv.liveSnapshots.list(id, 0)).resolves.toEqual([volumeSnapshot]);
      await hv.domains.stop(id, { timeoutMs: 200 });
      await run('qemu-img', ['snapshot', '-a', volumeSnapshot, root]);
      expect(await fileHolds(root, '0x31', '0', '1M')).toBe(true);
      await expectCleanImage(root);
    },
    SLOW,
  );
});
