import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { loadAgentConfig } from '@snapdeck/config';
import {
  deliveryId,
  hostQueueName,
  type JobEnvelope,
  type JobFinishedMessage,
  JobName,
  RESULTS_QUEUE,
  type ResultMessage,
  ResultKind,
} from '@snapdeck/contracts';
import { jest } from '@jest/globals';
import { describeWith } from '@snapdeck/testing';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type RunningAgent, startAgent } from '../../bootstrap.js';
import { LibvirtDriver } from './libvirt-driver.js';
import { LibvirtHypervisor } from './libvirt-hypervisor.js';
import type { LiveVolumeSnapshots } from './live-snapshots.js';

const run = promisify(execFile);
const URI = 'qemu:///system';
const SLOW = 240_000;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/*
 * The libvirt driver against a real libvirtd: domains of type qemu (TCG, no guest OS, so no guest agent) on the
 * qcow2 volumes of a temporary primary storage. A guest's writes are HMP `qemu-io` on the disk's device; the data
 * is checked offline with qemu-io on the file (exit 1 when it differs), or on an exported copy while it runs.
 */

/** A temporary folder QEMU (user libvirt-qemu) can traverse; mkdtemp makes 0700. */
async function traversableTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** Whether the image holds `pattern` at the start of its first MiB: qemu-io exits 1 when the data differ. */
async function holds(path: string, pattern: string, shared = false): Promise<boolean> {
  try {
    await run('qemu-io', [...(shared ? ['-U', '-r'] : []), '-f', 'qcow2', '-c', `read -P ${pattern} 0 1M`, path]);
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

async function forget(instanceIds: readonly string[]): Promise<void> {
  for (const id of instanceIds) {
    await run('virsh', ['-c', URI, 'destroy', `i-${id}`]).catch(() => undefined);
    await run('virsh', ['-c', URI, 'undefine', `i-${id}`, '--snapshots-metadata']).catch(() => undefined);
  }
}

describeWith(['libvirt', 'qemu-img'], 'LibvirtDriver on a real libvirtd', () => {
  let primary: string;
  let secondary: string;
  let driver: LibvirtDriver;
  const hypervisor = new LibvirtHypervisor({ uri: URI, domainType: 'qemu', pollIntervalMs: 100 });
  const instances: string[] = [];

  beforeAll(async () => {
    primary = await traversableTempDir('snapdeck-libvirt-driver-');
    secondary = await traversableTempDir('snapdeck-libvirt-secondary-');
    await mkdir(join(secondary, 'transfers'));
    driver = new LibvirtDriver({ storageDir: primary, secondaryDir: secondary, uri: URI, hypervisor });
    await driver.init();
  });

  afterAll(async () => {
    await forget(instances);
    if (primary) await rm(primary, { recursive: true, force: true });
    if (secondary) await rm(secondary, { recursive: true, force: true });
  });

  /** A new instance of a ROOT and a DATA volume of 1 GiB (sparse), not started. */
  async function newInstance() {
    const instance = { instanceId: randomUUID(), volumeIds: [randomUUID(), randomUUID()] };
    instances.push(instance.instanceId);
    for (const id of instance.volumeIds) await driver.createVolume(id, 1);
    const [root, data] = instance.volumeIds as [string, string];
    return { instance, root, data, domain: `i-${instance.instanceId}` };
  }

  /** A guest write of 1 MiB of `pattern` at the start of disk `disk` (0 = vda). */
  async function guestWrite(domain: string, disk: number, pattern: string): Promise<void> {
    const device = `/machine/peripheral/virtio-disk${disk}/virtio-backend`;
    await hypervisor.virsh.hmp(domain, `qemu-io -d ${device} "write -P ${pattern} 0 1M"`);
  }

  /** The vCPUs and memory (MiB) libvirt holds in the domain's definition, read from its XML. */
  async function definedXmlSize(domain: string): Promise<{ cpuCount: number; memoryMiB: number }> {
    const xml = await hypervisor.virsh.run(['dumpxml', '--inactive', domain]);
    const vcpu = /<vcpu[^>]*>(\d+)<\/vcpu>/.exec(xml)?.[1];
    const memoryKiB = /<memory unit='KiB'>(\d+)<\/memory>/.exec(xml)?.[1];
    return { cpuCount: Number(vcpu), memoryMiB: Number(memoryKiB) / 1024 };
  }

  it('defines the domain with the size its start names; a start without one keeps the defined size', async () => {
    const { instance, domain } = await newInstance();
    await driver.startInstance({ ...instance, cpuCount: 2, memoryMiB: 256 });
    expect(await definedXmlSize(domain)).toEqual({ cpuCount: 2, memoryMiB: 256 });
    expect(await hypervisor.domains.definedSize(domain)).toEqual({ cpuCount: 2, memoryMiB: 256 });
    await driver.stopInstance(instance, 0);
    // The restart after a STOP-mode backup (or a job of an older api) names no size.
    await driver.startInstance(instance);
    expect(await definedXmlSize(domain)).toEqual({ cpuCount: 2, memoryMiB: 256 });
    await driver.stopInstance(instance, 0);
    await driver.startInstance({ ...instance, cpuCount: 1, memoryMiB: 128 });
    expect(await definedXmlSize(domain)).toEqual({ cpuCount: 1, memoryMiB: 128 });
    await driver.stopInstance(instance, 0);
    await expect(driver.startInstance({ ...instance, cpuCount: 1, memoryMiB: 1 << 20 })).rejects.toThrow(
      /out of range/,
    );
  });

  it(
    'snapshots a running volume live, exports it while running, refuses revert and destroy, and reverts it once stopped',
    async () => {
      const { instance, root, data, domain } = await newInstance();
      const rootFile = driver.files.volumePath(root);

      expect(await driver.startInstance(instance)).toEqual({ alreadyRunning: false });
      expect(await driver.startInstance(instance)).toEqual({ alreadyRunning: true });
      expect(await hypervisor.domains.instanceState(instance.instanceId)).toBe('RUNNING');
      expect(await driver.runningInstanceOf(root)).toBe(instance.instanceId);

      await guestWrite(domain, 0, '0xab');
      const snapshotId = randomUUID();
      const live = jest.spyOn(hypervisor.liveSnapshots, 'create');
      const t0 = performance.now();
      expect(await driver.createSnapshot(root, snapshotId, { instanceId: instance.instanceId })).toEqual({
        alreadyExisted: false,
        sizeBytes: null,
        quiesced: false,
      });
      const liveMs = performance.now() - t0;
      const { guestPauseMs, durationMs } = await (live.mock.results[0]?.value as ReturnType<
        LiveVolumeSnapshots['create']
      >);
      live.mockRestore();
      expect(await tags(rootFile)).toEqual([snapshotId]);
      expect((await driver.listSnapshots(root)).map((s) => s.tag)).toEqual([snapshotId]);
      // A repeated delivery, and one that does not name the instance (the driver finds the running domain).
      expect(await driver.createSnapshot(root, snapshotId)).toMatchObject({ alreadyExisted: true });
      const dataSnapshot = randomUUID();
      expect(await driver.createSnapshot(data, dataSnapshot)).toMatchObject({ alreadyExisted: false });
      expect(await tags(driver.files.volumePath(data))).toEqual([dataSnapshot]);

      // The guest goes on writing; the snapshot stays what it was, and an export made now holds the old data.
      await guestWrite(domain, 0, '0xcd');
      const exported = `transfers/${randomUUID()}.qcow2`;
      expect(await driver.exportSnapshot(root, snapshotId, exported)).toMatchObject({ alreadyExisted: false });
      expect(await holds(join(secondary, exported), '0xab')).toBe(true);
      const clone = randomUUID();
      await driver.createVolume(clone, 1, { kind: 'snapshot', volumeId: root, snapshotId });
      expect(await holds(driver.files.volumePath(clone), '0xab')).toBe(true);

      await expect(driver.revertSnapshot(root, snapshotId)).rejects.toThrow(
        `it is a disk of running instance ${instance.instanceId}; stop the instance first`,
      );
      await expect(driver.destroyVolume(data)).rejects.toThrow('stop the instance first');
      expect(await driver.deleteSnapshot(data, dataSnapshot)).toEqual({ alreadyGone: false });
      expect(await driver.deleteSnapshot(data, dataSnapshot)).toEqual({ alreadyGone: true });
      expect(await tags(driver.files.volumePath(data))).toEqual([]);

      const stopped = await driver.stopInstance(instance, 1);
      expect(stopped.alreadyStopped).toBe(false);
      expect(await driver.stopInstance(instance, 1)).toEqual({ alreadyStopped: true, forced: false });
      expect(await driver.runningInstanceOf(root)).toBeUndefined();
      expect(await holds(rootFile, '0xcd')).toBe(true);
      await driver.revertSnapshot(root, snapshotId);
      expect(await holds(rootFile, '0xab')).toBe(true);
      expect(await tags(rootFile)).toEqual([snapshotId]);
      console.log(
        `live volume snapshot: ${liveMs.toFixed(0)} ms through LibvirtDriver (finding the domain included), ` +
          `${durationMs.toFixed(0)} ms in LibvirtHypervisor, guest writes held at most ${guestPauseMs.toFixed(0)} ms`,
      );
    },
    SLOW,
  );

  it(
    'fails a quiesced snapshot clearly when the guest has no agent, and takes nothing',
    async () => {
      const { instance, root } = await newInstance();
      await driver.startInstance(instance);
      const snapshotId = randomUUID();
      await expect(
        driver.createSnapshot(root, snapshotId, { instanceId: instance.instanceId, quiesce: true }),
      ).rejects.toThrow(/quiesce requested but the QEMU guest agent of instance .* does not answer/);
      expect(await tags(driver.files.volumePath(root))).toEqual([]);
      await driver.stopInstance(instance, 0);
    },
    SLOW,
  );

  it(
    'refuses a quiesced snapshot of an instance that is not running, rather than take it unfrozen',
    async () => {
      const { instance, root } = await newInstance();
      const snapshotId = randomUUID();
      await expect(
        driver.createSnapshot(root, snapshotId, { instanceId: instance.instanceId, quiesce: true }),
      ).rejects.toThrow(/quiesce needs a running instance.*nothing was taken/);
      expect(await tags(driver.files.volumePath(root))).toEqual([]);
    },
    SLOW,
  );

  it(
    'takes an instance snapshot with memory of a running instance and reverts to it, running again',
    async () => {
      const { instance, root, data, domain } = await newInstance();
      await driver.startInstance(instance);
      await guestWrite(domain, 0, '0x11');
      await guestWrite(domain, 1, '0x22');
      const instanceSnapshotId = randomUUID();
      const t0 = performance.now();
      const taken = await driver.createInstanceSnapshot(instance, instanceSnapshotId, {
        withMemory: true,
        quiesce: false,
      });
      const createMs = performance.now() - t0;
      // libvirt's own record of the point, with the volumes' files relative to the host's storage.
      const dumped = await hypervisor.virsh.run(['snapshot-dumpxml', domain, instanceSnapshotId]);
      expect(dumped).toContain(`${primary}/volumes/${root}.qcow2`);
      expect(taken).toEqual({
        alreadyExisted: false,
        quiesced: false,
        snapshotXml: dumped.split(`${primary}/`).join('').trim(),
      });
      expect(taken.snapshotXml).toContain(`<source file='volumes/${root}.qcow2'`);
      expect(taken.snapshotXml).not.toContain(primary);
      expect(
        await driver.createInstanceSnapshot(instance, instanceSnapshotId, { withMemory: true, quiesce: false }),
      ).toEqual({
        alreadyExisted: true,
        quiesced: false,
        snapshotXml: taken.snapshotXml,
      });
      await guestWrite(domain, 0, '0x33');
      await guestWrite(domain, 1, '0x44');

      const t1 = performance.now();
      expect(await driver.revertInstanceSnapshot(instance, instanceSnapshotId, true)).toEqual({ running: true });
      const revertMs = performance.now() - t1;
      expect(await hypervisor.domains.instanceState(instance.instanceId)).toBe('RUNNING');
      // The disks are the point's again (read through the running QEMU's lock with -U; the guest is idle).
      expect(await holds(driver.files.volumePath(root), '0x11', true)).toBe(true);
      expect(await holds(driver.files.volumePath(data), '0x22', true)).toBe(true);

      expect(await driver.revertInstanceSnapshot(instance, instanceSnapshotId, false)).toEqual({ running: false });
      expect(await hypervisor.domains.instanceState(instance.instanceId)).toBe('STOPPED');
      expect(await driver.deleteInstanceSnapshot(instance, instanceSnapshotId)).toEqual({ alreadyGone: false });
      expect(await driver.deleteInstanceSnapshot(instance, instanceSnapshotId)).toEqual({ alreadyGone: true });
      console.log(
        `instance snapshot with memory: create ${createMs.toFixed(0)} ms, revert (running) ${revertMs.toFixed(0)} ms`,
      );
    },
    SLOW,
  );

  it(
    'takes an instance snapshot without memory live, refuses to revert it while running, reverts it stopped and started',
    async () => {
      const { instance, root, domain } = await newInstance();
      // Before the instance ever ran (no domain yet): offline, the same tag on every disk.
      const before = randomUUID();
      expect(await driver.createInstanceSnapshot(instance, before, { withMemory: false, quiesce: false })).toEqual({
        alreadyExisted: false,
        quiesced: false,
      });
      await driver.startInstance(instance);
      await guestWrite(domain, 0, '0x55');
      const instanceSnapshotId = randomUUID();
      expect(
        await driver.createInstanceSnapshot(instance, instanceSnapshotId, { withMemory: false, quiesce: false }),
      ).toEqual({
        alreadyExisted: false,
        quiesced: false,
      });
      for (const id of instance.volumeIds)
        expect(await tags(driver.files.volumePath(id))).toEqual([before, instanceSnapshotId]);
      await guestWrite(domain, 0, '0x66');
      await expect(driver.revertInstanceSnapshot(instance, instanceSnapshotId, true)).rejects.toThrow('stop it first');

      await driver.stopInstance(instance, 0);
      expect(await driver.revertInstanceSnapshot(instance, instanceSnapshotId, true)).toEqual({ running: true });
      expect(await hypervisor.domains.instanceState(instance.instanceId)).toBe('RUNNING');
      expect(await holds(driver.files.volumePath(root), '0x55', true)).toBe(true);
      // Deleted live, on every disk.
      expect(await driver.deleteInstanceSnapshot(instance, instanceSnapshotId)).toEqual({ alreadyGone: false });
      for (const id of instance.volumeIds) expect(await tags(driver.files.volumePath(id))).toEqual([before]);
      await driver.stopInstance(instance, 0);
      expect(await driver.deleteInstanceSnapshot(instance, before)).toEqual({ alreadyGone: false });
      expect(await driver.deleteInstanceSnapshot(instance, before)).toEqual({ alreadyGone: true });
    },
    SLOW,
  );

  it(
    'forgets a destroyed instance: refuses while it runs, then undefines the domain and its snapshot metadata',
    async () => {
      const { instance, root, domain } = await newInstance();
      // Never started: no domain, nothing to forget.
      expect(await driver.forgetInstance(instance.instanceId)).toEqual({ alreadyGone: true });
      await driver.startInstance(instance);
      const instanceSnapshotId = randomUUID();
      await driver.createInstanceSnapshot(instance, instanceSnapshotId, { withMemory: true, quiesce: false });
      await expect(driver.forgetInstance(instance.instanceId)).rejects.toThrow(
        `Could not destroy instance ${instance.instanceId}: instance ${instance.instanceId} is running: stop it before it is destroyed`,
      );
      expect(await hypervisor.domains.instanceState(instance.instanceId)).toBe('RUNNING');

      await driver.stopInstance(instance, 0);
      expect(await driver.forgetInstance(instance.instanceId)).toEqual({ alreadyGone: false });
      await expect(run('virsh', ['-c', URI, 'dominfo', domain])).rejects.toThrow(/failed to get domain/);
      expect(await driver.forgetInstance(instance.instanceId)).toEqual({ alreadyGone: true });
      // The internal snapshot is in the file, which destroyVolume removes next.
      expect(await tags(driver.files.volumePath(root))).toEqual([instanceSnapshotId]);
      expect(await driver.destroyVolume(root)).toEqual({ alreadyGone: false });
    },
    SLOW,
  );
});

describeWith(['libvirt', 'qemu-img', 'redis'], 'an agent on the libvirt driver, restarted while a domain runs', () => {
  const prefix = `snapdeck-test-libvirt-${randomUUID().slice(0, 8)}`;
  const hostName = `kvm-${randomUUID().slice(0, 8)}`;
  // Opened in beforeAll, not here: jest runs this body even when the suite is skipped or filtered out (-t), and
  // then runs no afterAll to quit a connection opened here, which kept jest from exiting after the run.
  let redis: Redis | undefined;
  const results: ResultMessage[] = [];
  let storageDir: string;
  let resultsWorker: Worker<ResultMessage> | undefined;
  let hostQueue: Queue<JobEnvelope> | undefined;
  let agent: RunningAgent | undefined;
  const instanceId = randomUUID();

  beforeAll(async () => {
    storageDir = await traversableTempDir('snapdeck-libvirt-agent-');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    resultsWorker = new Worker<ResultMessage>(
      RESULTS_QUEUE,
      (job) => {
        results.push(job.data);
        return Promise.resolve();
      },
      { connection: redis, prefix },
    );
    hostQueue = new Queue<JobEnvelope>(hostQueueName(hostName), { connection: redis, prefix });
  });

  afterAll(async () => {
    await agent?.close();
    await resultsWorker?.close();
    await hostQueue?.close();
    if (redis) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
    await forget([instanceId]);
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  const config = () =>
    loadAgentConfig({
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      AGENT_HOST_NAME: hostName,
      AGENT_STORAGE_DIR: storageDir,
      SECONDARY_STORAGE_DIR: join(storageDir, 'secondary'),
      AGENT_DRIVER: 'libvirt',
      AGENT_LIBVIRT_URI: URI,
      AGENT_HEARTBEAT_SECONDS: '1',
    });

  /** Dispatches a job as the api does and waits for its FINISHED result. */
  async function runJob<N extends JobName>(name: N, payload: JobEnvelope<N>['payload']): Promise<JobFinishedMessage> {
    const envelope = { jobId: randomUUID(), attempt: 1, name, payload } as JobEnvelope<N>;
    await hostQueue?.add(name, envelope as JobEnvelope, { jobId: deliveryId(envelope.jobId, 1) });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = results.find(
        (m): m is JobFinishedMessage => m.kind === ResultKind.FINISHED && m.jobId === envelope.jobId,
      );
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`job ${name} did not finish; results: ${JSON.stringify(results)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it(
    'keeps the domain running across the restart, and the new agent snapshots it live',
    async () => {
      const volumeIds = [randomUUID(), randomUUID()];
      agent = await startAgent(config(), { logger: ['error'] });
      const created = await runJob(JobName.CREATE_VOLUMES, {
        volumes: volumeIds.map((volumeId) => ({ volumeId, sizeGiB: 1 })),
      });
      expect(created.outcome.ok).toBe(true);
      const started = await runJob(JobName.START_INSTANCE, { instanceId, volumeIds });
      expect(started.outcome).toMatchObject({ ok: true, data: { instanceId, alreadyRunning: false } });
      const { stdout: pidBefore } = await run('virsh', ['-c', URI, 'domid', `i-${instanceId}`]);

      await agent.close();
      agent = undefined;
      const { stdout: stateBetween } = await run('virsh', ['-c', URI, 'domstate', `i-${instanceId}`]);
      expect(stateBetween.trim()).toBe('running');

      agent = await startAgent(config(), { logger: ['error'] });
      const { stdout: pidAfter } = await run('virsh', ['-c', URI, 'domid', `i-${instanceId}`]);
      expect(pidAfter.trim()).toBe(pidBefore.trim()); // the same QEMU process, never restarted
      const again = await runJob(JobName.START_INSTANCE, { instanceId, volumeIds });
      expect(again.outcome).toMatchObject({ ok: true, data: { alreadyRunning: true } });

      const snapshotId = randomUUID();
      const volumeId = volumeIds[0] as string;
      const snapshot = await runJob(JobName.CREATE_SNAPSHOT, { volumeId, snapshotId, instanceId });
      expect(snapshot.outcome).toEqual({
        ok: true,
        data: { snapshotId, alreadyExisted: false, sizeBytes: null, quiesced: false },
        message: 'Snapshot taken',
      });
      expect(await tags(join(storageDir, 'volumes', `${volumeId}.qcow2`))).toEqual([snapshotId]);
      const stopped = await runJob(JobName.STOP_INSTANCE, { instanceId, volumeIds, timeoutSeconds: 1 });
      expect(stopped.outcome).toMatchObject({ ok: true, data: { alreadyStopped: false } });
    },
    SLOW,
  );
});
