import { describeWith } from '@snapdeck/testing';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { diskSnapshotTags } from './support/disk.js';
import { createInstance, type CreatedInstance } from './support/flows.js';
import { errorCodes, eventually, mustQuery } from './support/graphql-client.js';
import { startMailbox, type Mailbox } from './support/notification-peers.js';
import { domainOf, domainState, forgetDomains, guestWrite, virsh } from './support/libvirt.js';
import { check, hasPattern, volumeFile, writePattern } from './support/patterns.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

/**
 * Backups end to end on the real stack (api, a qemu-img agent, PostgreSQL, Redis, a real SMTP server): patterns
 * written with qemu-io into a stopped instance's disks are backed up to the default storage, the manifest's sha256
 * matches the files and `qemu-img check` passes on them, the completion mail names the backup and its size, and
 * the patterns read back after a restore into a new instance and over the same one (after its safety snapshots).
 */

const BACKUP_FIELDS =
  'id name state instanceName mode compression incremental chainLength fullReason sizeBytes configuration error ' +
  'completedAt storage { id name } instance { id } environment { id } job { id status error } parent { id } ' +
  'dependents { id }';
const CREATE = `mutation($input: CreateBackupInput!) { createBackup(input: $input) { backup { ${BACKUP_FIELDS} } job { id status } } }`;
const RESTORE = `mutation($input: RestoreBackupInput!) { restoreBackup(input: $input) { instance { id name state } job { id type } } }`;
const ROOT_BYTE = 0xa1;
const DATA_BYTE = 0xb2;
const LATER_BYTE = 0xc3;
const execFileAsync = promisify(execFile);

interface Manifest {
  backupId: string;
  instanceName: string;
  compression: string;
  volumes: Array<{ volumeId: string; name: string; file: string; sha256: string; virtualSizeBytes: number }>;
}

describeWith(
  ['redis', 'qemu-img'],
  'backups of real qcow2 disks, restored into a new instance and over the same one',
  () => {
    let stack: Stack;
    let mailbox: Mailbox;
    let tenant: Tenant;
    let storageDir: string;

    beforeAll(async () => {
      mailbox = await startMailbox();
      stack = await startStack({
        agents: ['kvm-bk'],
        apiEnv: { SMTP_URL: mailbox.url, NOTIFY_FROM: 'Snapdeck <alerts@snapdeck.test>', NOTIFY_POLL_MS: '100' },
      });
      tenant = await createTenant(stack);
      storageDir = stack.agents.get('kvm-bk')!.storageDir;
    }, 60000);

    afterAll(async () => {
      await stack?.close();
      await mailbox?.close();
    });

    const byType = (instance: CreatedInstance, type: string) => instance.volumes.find((v) => v.type === type)!;

    async function backupById(id: string) {
      const { backup } = await mustQuery<{ backup: Record<string, any> | null }>(
        stack.url,
        tenant.tokens.READ_ONLY,
        `query($id: ID!) { backup(id: $id) { ${BACKUP_FIELDS} } }`,
        { id },
      );
      return backup;
    }

    async function waitForBackup(id: string, state: string) {
      return eventually(
        async () => {
          const backup = await backupById(id);
          if (backup?.state === 'ERROR' && state !== 'ERROR') throw new Error(`backup ${id} failed: ${backup.error}`);
          return backup?.state === state ? backup : null;
        },
        60000,
        `backup ${id} to be ${state}`,
      );
    }

    async function instanceWithVolumes(id: string) {
      const { instance } = await mustQuery<{ instance: CreatedInstance & { state: string; volumes: any[] } }>(
        stack.url,
        tenant.tokens.MEMBER,
        `query($id: ID!) { instance(id: $id) { id name state volumes { id name type state } } }`,
        { id },
      );
      return instance;
    }

    async function eventTypes(resourceId: string): Promise<string[]> {
      const { events } = await mustQuery<{ events: { edges: Array<{ node: { type: string } }> } }>(
        stack.url,
        tenant.tokens.MEMBER,
        `query($filter: EventFilter) { events(filter: $filter, first: 100) { edges { node { type } } } }`,
        { filter: { resourceId } },
      );
      return events.edges.map((e) => e.node.type);
    }

    const sha256 = async (file: string) =>
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex');

    it('backs up a stopped instance, restores it into a new one and over itself, patterns intact', async () => {
      const source = await createInstance(stack, tenant.tokens.MEMBER, {
        environmentId: tenant.environmentId,
        name: 'bk-src',
        rootDiskSizeGiB: 1,
        dataDiskSizesGiB: [1],
      });
      const root = byType(source, 'ROOT');
      const data = byType(source, 'DATADISK');
      await writePattern(volumeFile(storageDir, root.id), ROOT_BYTE, 0, '1M');
      await writePattern(volumeFile(storageDir, data.id), DATA_BYTE, '4M', '1M');

      // Roles and tenancy through the guard: a reader cannot write, another organization does not see it.
      expect(
        await errorCodes(stack.url, tenant.tokens.READ_ONLY, CREATE, { input: { instanceId: source.id } }),
      ).toEqual(['FORBIDDEN']);
      const other = await createTenant(stack);
      expect(await errorCodes(stack.url, other.tokens.MEMBER, CREATE, { input: { instanceId: source.id } })).toEqual([
        'NOT_FOUND',
      ]);

      const { createBackup } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
        input: { instanceId: source.id, notify: ['backup-owner@example.test'] },
      });
      expect(createBackup.backup).toMatchObject({
        state: 'CREATING',
        mode: 'SNAPSHOT',
        compression: 'ZSTD',
        instanceName: 'bk-src',
        storage: { name: 'default' },
      });
      const backup = await waitForBackup(createBackup.backup.id, 'READY');
      expect(backup.sizeBytes).toBeGreaterThan(0);
      expect(backup.job.status).toBe('SUCCEEDED');
      expect(backup.configuration.volumes.map((v: any) => [v.name, v.type, v.sizeGiB])).toEqual([
        ['ROOT', 'ROOT', 1],
        ['DATA-1', 'DATADISK', 1],
      ]);
      expect((await instanceWithVolumes(source.id)).volumes.map((v: any) => v.state)).toEqual(['READY', 'READY']);

      // The folder of the contract's layout: its manifest's sha256 match the files, qemu-img check passes.
      const folder = join(stack.secondaryDir, 'backups', tenant.organizationId, backup.id);
      const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as Manifest;
      expect(manifest).toMatchObject({ backupId: backup.id, instanceName: 'bk-src', compression: 'ZSTD' });
      expect(manifest.volumes.map((v) => v.volumeId).sort()).toEqual([root.id, data.id].sort());
      for (const volume of manifest.volumes) {
        const file = join(folder, volume.file);
        expect(await sha256(file)).toBe(volume.sha256);
        const checked = await check(file);
        expect(checked.output).toBeDefined();
        expect(checked.clean).toBe(true);
        expect(volume.virtualSizeBytes).toBe(1024 ** 3);
      }

      // The completion mail: the backup's name and size, to its notify address.
      const mail = await eventually(
        () => Promise.resolve(mailbox.mails.find((m) => m.to.includes('backup-owner@example.test'))),
        30000,
        'the backup.completed mail',
      );
      expect(mail.raw).toContain('Backup completed');
      expect(mail.raw).toContain(backup.name);
      expect(mail.raw).toMatch(/Size: +\d+\.\d MiB/);
      expect(mail.raw).toContain('bk-src');

      // Into a new instance: its volumes hold the patterns.
      const { restoreBackup: intoNew } = await mustQuery(stack.url, tenant.tokens.MEMBER, RESTORE, {
        input: { backupId: backup.id, environmentId: tenant.environmentId, name: 'bk-restored' },
      });
      expect(intoNew.instance.state).toBe('CREATING');
      expect(intoNew.job.type).toBe('RESTORE_BACKUP');
      const restored = await eventually(
        async () => {
          const instance = await instanceWithVolumes(intoNew.instance.id);
          if (instance.state === 'ERROR') throw new Error('the restored instance is ERROR');
          return instance.state === 'STOPPED' ? instance : null;
        },
        60000,
        'the restored instance to be STOPPED',
      );
      const newRoot = byType(restored, 'ROOT');
      const newData = byType(restored, 'DATADISK');
      expect(await hasPattern(volumeFile(storageDir, newRoot.id), ROOT_BYTE, 0, '1M')).toBe(true);
      expect(await hasPattern(volumeFile(storageDir, newData.id), DATA_BYTE, '4M', '1M')).toBe(true);
      for (const v of [newRoot, newData]) expect((await check(volumeFile(storageDir, v.id))).clean).toBe(true);

      // Over the same instance, after later writes: a safety snapshot of each disk first, then the backup's data.
      await writePattern(volumeFile(storageDir, root.id), LATER_BYTE, 0, '1M');
      await writePattern(volumeFile(storageDir, data.id), LATER_BYTE, '4M', '1M');
      expect(await hasPattern(volumeFile(storageDir, root.id), ROOT_BYTE, 0, '1M')).toBe(false);
      const { restoreBackup: over } = await mustQuery(stack.url, tenant.tokens.MEMBER, RESTORE, {
        input: { backupId: backup.id, instanceId: source.id },
      });
      expect(over.instance.id).toBe(source.id);
      expect(over.job.type).toBe('CREATE_SNAPSHOT');
      await eventually(
        async () => {
          const types = await eventTypes(backup.id);
          if (types.includes('RESTORE_FAILED')) throw new Error('the restore over the instance failed');
          return types.includes('RESTORE_COMPLETED');
        },
        60000,
        'restore.completed over the instance',
      );
      const after = await eventually(
        async () => {
          const instance = await instanceWithVolumes(source.id);
          return instance.volumes.every((v: any) => v.state === 'READY') ? instance : null;
        },
        20000,
        'the volumes to be READY',
      );
      expect(after.state).toBe('STOPPED');
      expect(await hasPattern(volumeFile(storageDir, root.id), ROOT_BYTE, 0, '1M')).toBe(true);
      expect(await hasPattern(volumeFile(storageDir, data.id), DATA_BYTE, '4M', '1M')).toBe(true);
      for (const v of [root, data]) expect((await check(volumeFile(storageDir, v.id))).clean).toBe(true);

      // The safety snapshots stayed, as ordinary snapshots, on disk as tags of the volume files.
      const { snapshots } = await mustQuery<{ snapshots: { edges: Array<{ node: any }> } }>(
        stack.url,
        tenant.tokens.MEMBER,
        `query($filter: SnapshotFilter) { snapshots(filter: $filter, first: 100) { edges { node { id name state volume { id } } } } }`,
        { filter: { instanceId: source.id } },
      );
      const safety = snapshots.edges.map((e) => e.node).filter((s) => /_pre-restore_/.test(s.name));
      expect(safety.map((s) => s.state)).toEqual(['COMPLETED', 'COMPLETED']);
      for (const s of safety) expect(await diskSnapshotTags(storageDir, s.volume.id)).toContain(s.id);

      // The restore rewrote the disks: an incremental asked for now is a full one and says why; the next one,
      // after a write, builds on it, and the API shows the dependency both ways.
      const incremental = async () => {
        const { createBackup: asked } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
          input: { instanceId: source.id, incremental: true },
        });
        return waitForBackup(asked.backup.id, 'READY');
      };
      const restarted = await incremental();
      expect(restarted).toMatchObject({ incremental: false, chainLength: 1, parent: null });
      expect(restarted.fullReason).toMatch(/was reverted or restored since backup/);
      await writePattern(volumeFile(storageDir, data.id), LATER_BYTE, '8M', '1M');
      const child = await incremental();
      expect(child).toMatchObject({
        incremental: true,
        chainLength: 2,
        fullReason: null,
        parent: { id: restarted.id },
      });
      expect(child.sizeBytes).toBeLessThan(restarted.sizeBytes);
      expect((await backupById(restarted.id))!.dependents).toEqual([{ id: child.id }]);
      for (const id of [child.id, restarted.id]) {
        await mustQuery(
          stack.url,
          tenant.tokens.MEMBER,
          `mutation($id: ID!) { deleteBackup(input: { backupId: $id }) { backup { id } } }`,
          { id },
        );
        await eventually(async () => (await backupById(id)) === null, 30000, 'the backup to be gone');
      }

      // Delete: the row goes once the folder is gone.
      const { deleteBackup } = await mustQuery(
        stack.url,
        tenant.tokens.MEMBER,
        `mutation($id: ID!) { deleteBackup(input: { backupId: $id }) { backup { id state } job { id } } }`,
        { id: backup.id },
      );
      expect(deleteBackup.backup.state).toBe('DESTROYING');
      await eventually(async () => (await backupById(backup.id)) === null, 30000, 'the backup to be gone');
      await expect(readFile(join(folder, 'manifest.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    }, 240000);
  },
);

describeWith(['redis', 'qemu-img', 'libvirt'], 'backups of a running instance in each mode (libvirt agent)', () => {
  const HOST = 'kvm-bk-live';
  const WAIT_MS = 90_000;
  let stack: Stack;
  let tenant: Tenant;
  let vm: CreatedInstance;
  const instanceIds = new Set<string>();

  beforeAll(async () => {
    stack = await startStack({
      agents: [HOST],
      agentEnv: { AGENT_DRIVER: 'libvirt' },
      // A guest without an OS ignores ACPI: do not wait a minute before forcing it off (STOP mode).
      apiEnv: { INSTANCE_STOP_TIMEOUT_SECONDS: '1' },
    });
    tenant = await createTenant(stack);
  }, 240_000);

  afterAll(async () => {
    await forgetDomains(instanceIds);
    await stack?.close();
  }, 240_000);

  const storageDir = () => stack.agents.get(HOST)!.storageDir;

  async function instanceNow(id: string) {
    const { instance } = await mustQuery<{
      instance: {
        state: string;
        cpuCount: number;
        memoryMiB: number;
        volumes: Array<{ id: string; type: string; state: string }>;
      };
    }>(
      stack.url,
      tenant.tokens.MEMBER,
      `query($id: ID!) { instance(id: $id) { state cpuCount memoryMiB volumes { id type state } } }`,
      { id },
    );
    return instance;
  }

  async function backupWhenSettled(id: string, timeoutMs = WAIT_MS) {
    return eventually(
      async () => {
        const { backup } = await mustQuery<{ backup: Record<string, any> }>(
          stack.url,
          tenant.tokens.MEMBER,
          `query($id: ID!) { backup(id: $id) { id name state error sizeBytes configuration } }`,
          { id },
        );
        return backup.state === 'CREATING' ? null : backup;
      },
      timeoutMs,
      `backup ${id} to settle`,
    );
  }

  /** After a backup in `mode`: the instance RUNNING with its disk READY, and its domain running for libvirtd. */
  async function expectGivenBackRunning(mode: string, instanceId: string) {
    const now = await instanceNow(instanceId);
    expect({ mode, state: now.state, volumes: now.volumes.map((v) => v.state) }).toEqual({
      mode,
      state: 'RUNNING',
      volumes: ['READY'],
    });
    expect(await domainState(instanceId)).toBe('running');
    return now;
  }

  /** The vCPUs and memory (MiB) of the instance's libvirt domain, read from its definition. */
  async function domainSize(instanceId: string) {
    const xml = await virsh('dumpxml', '--inactive', domainOf(instanceId));
    return {
      cpuCount: Number(/<vcpu[^>]*>(\d+)<\/vcpu>/.exec(xml)?.[1]),
      memoryMiB: Number(/<memory unit='KiB'>(\d+)<\/memory>/.exec(xml)?.[1]) / 1024,
    };
  }

  /** A new instance of the tenant, started and RUNNING (its domain removed after the suite). */
  async function runningInstance(name: string, size: { cpuCount?: number; memoryMiB?: number } = {}) {
    const created = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name,
      ...size,
    });
    instanceIds.add(created.id);
    await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `mutation($id: ID!) { startInstance(input: { instanceId: $id }) { job { id } } }`,
      { id: created.id },
    );
    await eventually(async () => (await instanceNow(created.id)).state === 'RUNNING', WAIT_MS, 'the instance to run');
    return created;
  }

  it('SNAPSHOT keeps the guest running; STOP and SUSPEND give it back running; the data restores', async () => {
    vm = await runningInstance('bk-live', { cpuCount: 2, memoryMiB: 256 });
    // The domain is defined with the size the instance was created with.
    expect(await domainSize(vm.id)).toEqual({ cpuCount: 2, memoryMiB: 256 });
    await guestWrite(vm.id, '0x5a', '1M');

    const ids: string[] = [];
    for (const mode of ['SNAPSHOT', 'SUSPEND', 'STOP']) {
      const { createBackup } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
        input: { instanceId: vm.id, mode, compression: 'NONE' },
      });
      // STOP waits for the graceful shutdown an OS-less guest ignores: the agent forces it off after its own bound.
      const backup = await backupWhenSettled(createBackup.backup.id, mode === 'STOP' ? 200_000 : WAIT_MS);
      expect({ mode, state: backup.state, error: backup.error }).toEqual({ mode, state: 'READY', error: null });
      expect(backup.configuration.instanceWasRunning).toBe(true);
      await expectGivenBackRunning(mode, vm.id);
      ids.push(backup.id);
    }

    // Each backup holds what the guest wrote before it: restored into a new instance, the pattern is on its disk.
    const { restoreBackup } = await mustQuery(stack.url, tenant.tokens.MEMBER, RESTORE, {
      input: { backupId: ids[0], environmentId: tenant.environmentId, name: 'bk-live-copy' },
    });
    instanceIds.add(restoreBackup.instance.id);
    const copy = await eventually(
      async () => {
        const instance = await instanceNow(restoreBackup.instance.id);
        if (instance.state === 'ERROR') throw new Error('the restored instance is ERROR');
        return instance.state === 'STOPPED' ? instance : null;
      },
      WAIT_MS,
      'the restored instance to be STOPPED',
    );
    const file = volumeFile(storageDir(), copy.volumes[0].id);
    expect(await hasPattern(file, 0x5a, 0, '1M')).toBe(true);
    expect((await check(file)).clean).toBe(true);
    // The STOP-mode restart kept the domain's size, and the restored instance has the size its backup recorded.
    expect(await domainSize(vm.id)).toEqual({ cpuCount: 2, memoryMiB: 256 });
    expect({ cpuCount: copy.cpuCount, memoryMiB: copy.memoryMiB }).toEqual({ cpuCount: 2, memoryMiB: 256 });
  }, 480_000);

  it('a storage that fills up mid-copy fails the backup clearly, in every mode, and leaves the guest running with nothing written', async () => {
    // A backup storage of 8 MiB (a tmpfs every node of this one-host stack mounts), for 24 MiB of guest data.
    const mount = await mkdtemp(join(tmpdir(), 'snapdeck-full-storage-'));
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]);
    try {
      const { createBackupStorage } = await mustQuery<{ createBackupStorage: { backupStorage: { id: string } } }>(
        stack.url,
        stack.adminToken,
        `mutation($input: CreateBackupStorageInput!) { createBackupStorage(input: $input) { backupStorage { id } } }`,
        { input: { name: 'small', path: mount } },
      );
      const storageId = createBackupStorage.backupStorage.id;
      const full = await runningInstance('bk-full');
      await guestWrite(full.id, '0x77', '24M');

      for (const mode of ['SNAPSHOT', 'SUSPEND', 'STOP']) {
        const { createBackup } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
          input: { instanceId: full.id, mode, compression: 'NONE', storageId },
        });
        const backup = await backupWhenSettled(createBackup.backup.id, mode === 'STOP' ? 200_000 : WAIT_MS);
        expect({ mode, state: backup.state }).toEqual({ mode, state: 'ERROR' });
        expect(backup.error).toMatch(/no space left/i);
        expect(backup.error).not.toContain(mount);
        // The guest is given back running, its disk unlocked, and nothing of the backup stays on the storage.
        const now = await expectGivenBackRunning(mode, full.id);
        expect(await diskSnapshotTags(storageDir(), now.volumes[0].id)).toEqual([]);
        expect(await readdir(join(mount, tenant.organizationId)).catch(() => [])).toEqual([]);
      }
      const { backups } = await mustQuery<{ backups: { edges: Array<{ node: { state: string } }> } }>(
        stack.url,
        tenant.tokens.READ_ONLY,
        `query($filter: BackupFilter) { backups(filter: $filter, first: 10) { edges { node { state } } } }`,
        { filter: { instanceId: full.id } },
      );
      expect(backups.edges.map((e) => e.node.state)).toEqual(['ERROR', 'ERROR', 'ERROR']);
    } finally {
      await execFileAsync('umount', [mount]);
      await rm(mount, { recursive: true, force: true });
    }
  }, 480_000);
});
