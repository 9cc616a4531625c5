/**
 * Issue 5 through the whole stack: snapshots of a running instance's volume, taken live by an agent on the
 * libvirt driver (a real libvirtd, a domain with no guest OS), driven through GraphQL over HTTP only. The guest's
 * writes are HMP `qemu-io` on its disk; disks are checked with qemu-io, qemu-img and virsh, as an operator would.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { describeWith } from '@snapdeck/testing';
import { diskSnapshotTags, volumePath } from './support/disk.js';
import { createInstance, waitForSnapshot, type CreatedInstance } from './support/flows.js';
import { errorCodes, eventually, mustQuery } from './support/graphql-client.js';
import { domainOf, domainState, forgetDomains, guestWrite, imageHolds, virsh } from './support/libvirt.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant } from './support/tenants.js';

const exec = promisify(execFile);
const HOST = 'kvm-live';
const SLOW = 240_000;
/** Starting a TCG domain, a revert with memory: seconds, not milliseconds. */
const WAIT_MS = 90_000;

describeWith(['redis', 'qemu-img', 'libvirt'], 'live snapshots of running instances (libvirt agent)', () => {
  let stack: Stack;
  let token: string;
  let environmentId: string;
  let vm: CreatedInstance;
  let rootId: string;
  let rootFile: string;
  let liveSnapshotId: string;
  let pointId: string;
  const instanceIds = new Set<string>();

  beforeAll(async () => {
    stack = await startStack({
      agents: [HOST],
      agentEnv: { AGENT_DRIVER: 'libvirt' },
      // A guest without an OS ignores ACPI: do not wait a minute before forcing it off.
      apiEnv: { INSTANCE_STOP_TIMEOUT_SECONDS: '1' },
    });
    const tenant = await createTenant(stack);
    token = tenant.tokens.MEMBER;
    environmentId = tenant.environmentId;
  }, SLOW);

  afterAll(async () => {
    await forgetDomains(instanceIds);
    await stack?.close();
  }, SLOW);

  const storageDir = () => stack.agents.get(HOST)!.storageDir;

  const instanceState = async () =>
    (
      await mustQuery<{ instance: { state: string; volumes: Array<{ state: string }> } | null }>(
        stack.url,
        token,
        `query($id: ID!) { instance(id: $id) { state volumes { state } } }`,
        { id: vm.id },
      )
    ).instance;

  /** Waits for the instance to be `state` with every volume READY. */
  const settled = (state: string) =>
    eventually(
      async () => {
        const found = await instanceState();
        if (found?.state === 'ERROR') throw new Error('instance is ERROR');
        return found?.state === state && found.volumes.every((v) => v.state === 'READY') ? found : null;
      },
      WAIT_MS,
      `instance to be ${state}`,
    );

  async function power(mutation: 'startInstance' | 'stopInstance', expected: 'RUNNING' | 'STOPPED') {
    await mustQuery(
      stack.url,
      token,
      `mutation($id: ID!) { ${mutation}(input: { instanceId: $id }) { instance { state } job { id } } }`,
      { id: vm.id },
    );
    await settled(expected);
    expect(await domainState(vm.id)).toBe(expected === 'RUNNING' ? 'running' : 'shut off');
  }

  async function createSnapshot(quiesce = false): Promise<string> {
    const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string; state: string } } }>(
      stack.url,
      token,
      `mutation($v: ID!, $q: Boolean) { createSnapshot(input: { volumeId: $v, quiesce: $q }) { snapshot { id state } } }`,
      { v: rootId, q: quiesce },
    );
    expect(createSnapshot.snapshot.state).toBe('IN_PROGRESS');
    return createSnapshot.snapshot.id;
  }

  const snapshotDetails = async (id: string) =>
    (
      await mustQuery<{ snapshot: { state: string; quiesced: boolean; error: string | null } }>(
        stack.url,
        token,
        `query($id: ID!) { snapshot(id: $id) { state quiesced error } }`,
        { id },
      )
    ).snapshot;

  it(
    '(a) creates the instance STOPPED and starts it: RUNNING, and libvirt runs its domain',
    async () => {
      vm = await createInstance(stack, token, { environmentId, name: 'live-1' });
      instanceIds.add(vm.id);
      rootId = vm.volumes.find((v) => v.type === 'ROOT')!.id;
      rootFile = volumePath(storageDir(), rootId);
      expect(await domainState(vm.id)).toBeNull();
      await power('startInstance', 'RUNNING');
    },
    SLOW,
  );

  it(
    '(b, c) snapshots the ROOT volume live while the guest writes: COMPLETED, not quiesced, never paused',
    async () => {
      await guestWrite(vm.id, '0xab');

      // libvirt's view of the domain, polled for as long as the snapshot is being taken.
      const states = new Set<string>();
      let polls = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          states.add((await domainState(vm.id)) ?? 'undefined');
          polls++;
        }
      })();
      const t0 = performance.now();
      liveSnapshotId = await createSnapshot();
      let completed: Record<string, any>;
      try {
        completed = await waitForSnapshot(stack, token, liveSnapshotId, 'COMPLETED', WAIT_MS);
      } finally {
        polling = false;
        await poller;
      }
      const liveMs = performance.now() - t0;
      const serverMs = Date.parse(completed.completedAt as string) - Date.parse(completed.createdAt as string);
      expect(polls).toBeGreaterThan(0);
      expect([...states]).toEqual(['running']);
      expect(await snapshotDetails(liveSnapshotId)).toMatchObject({ state: 'COMPLETED', quiesced: false });
      expect(await diskSnapshotTags(storageDir(), rootId)).toEqual([liveSnapshotId]);
      process.stdout.write(
        `live snapshot through the whole stack (createSnapshot over HTTP to COMPLETED seen by polling GraphQL ` +
          `every 50 ms, libvirt driver, domain running): ${liveMs.toFixed(0)} ms; createdAt to completedAt ` +
          `${serverMs} ms; virsh domstate said "running" ${polls} time(s) meanwhile, nothing else\n`,
      );

      // The guest goes on writing to its own file: the same path, no overlay, no chain to commit.
      await guestWrite(vm.id, '0xcd');
      expect(await domainState(vm.id)).toBe('running');
      expect(await virsh('domblklist', domainOf(vm.id))).toMatch(
        new RegExp(`^\\s*vda\\s+${rootFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm'),
      );
      const { stdout } = await exec('qemu-img', ['info', '--backing-chain', '-U', '--output=json', rootFile]);
      const chain = JSON.parse(stdout) as Array<{ filename: string; 'backing-filename'?: string }>;
      expect(chain).toEqual([expect.objectContaining({ filename: rootFile })]);
      expect(chain.some((image) => 'backing-filename' in image)).toBe(false);
    },
    SLOW,
  );

  it(
    '(d) refuses the revert while running, then reverts once stopped: the snapshot data, a clean image',
    async () => {
      const REVERT = `mutation($s: ID!) { revertVolumeToSnapshot(input: { snapshotId: $s }) { volume { state } job { id } } }`;
      expect(await errorCodes(stack.url, token, REVERT, { s: liveSnapshotId })).toEqual(['PRECONDITION_FAILED']);
      expect(await domainState(vm.id)).toBe('running');

      await power('stopInstance', 'STOPPED');
      expect(await imageHolds(rootFile, '0xcd')).toBe(true);
      const { revertVolumeToSnapshot } = await mustQuery<{ revertVolumeToSnapshot: { volume: { state: string } } }>(
        stack.url,
        token,
        REVERT,
        { s: liveSnapshotId },
      );
      expect(revertVolumeToSnapshot.volume.state).toBe('REVERTING');
      await settled('STOPPED');
      expect(await imageHolds(rootFile, '0xab')).toBe(true);
      const check = await exec('qemu-img', ['check', '-f', 'qcow2', rootFile]);
      expect(check.stdout).toContain('No errors were found on the image.');
      expect(await diskSnapshotTags(storageDir(), rootId)).toEqual([liveSnapshotId]);
    },
    SLOW,
  );

  it(
    '(e) fails a quiesced snapshot of a guest without an agent: ERROR, saying so, and no tag in the image',
    async () => {
      await power('startInstance', 'RUNNING');
      const id = await createSnapshot(true);
      const failed = await waitForSnapshot(stack, token, id, 'ERROR', WAIT_MS);
      expect(failed.error).toMatch(/guest agent/);
      expect(failed.error).toMatch(/no snapshot was taken/);
      expect(await diskSnapshotTags(storageDir(), rootId)).toEqual([liveSnapshotId]);
      await settled('RUNNING');
      expect(await domainState(vm.id)).toBe('running');
    },
    SLOW,
  );

  it(
    '(f) takes a recovery point with memory, and reverts to it running: the disk holds its data again',
    async () => {
      await guestWrite(vm.id, '0x11');
      const { createInstanceSnapshot } = await mustQuery<{
        createInstanceSnapshot: { instanceSnapshot: { id: string } };
      }>(
        stack.url,
        token,
        `mutation($i: ID!) { createInstanceSnapshot(input: { instanceId: $i, withMemory: true }) { instanceSnapshot { id } } }`,
        { i: vm.id },
      );
      pointId = createInstanceSnapshot.instanceSnapshot.id;
      await eventually(
        async () => {
          const { node } = await mustQuery<{ node: { state: string; error: string | null; withMemory: boolean } }>(
            stack.url,
            token,
            `query($id: ID!) { node(id: $id) { ... on InstanceSnapshot { state error withMemory } } }`,
            { id: pointId },
          );
          if (node.state === 'ERROR') throw new Error(`recovery point ERROR: ${node.error}`);
          return node.state === 'COMPLETED' && node.withMemory;
        },
        WAIT_MS,
        'recovery point to be COMPLETED',
      );
      await settled('RUNNING');
      // The recovery point is the same kind of internal snapshot, memory included, tagged with its id.
      expect(await diskSnapshotTags(storageDir(), rootId)).toEqual([liveSnapshotId, pointId]);
      // Its configuration says what it captured, with libvirt's own record (snapshot-dumpxml), the host's storage
      // folder left out of the volumes' paths.
      const { node: point } = await mustQuery<{ node: { configuration: Record<string, unknown> } }>(
        stack.url,
        token,
        `query($id: ID!) { node(id: $id) { ... on InstanceSnapshot { configuration } } }`,
        { id: pointId },
      );
      const dumped = await virsh('snapshot-dumpxml', domainOf(vm.id), pointId);
      expect(point.configuration).toEqual({
        cpuCount: 1,
        memoryMiB: 512,
        memorySaved: true,
        disks: [{ volumeId: rootId, name: 'ROOT', device: 'vda', sizeGiB: 1 }],
        quiesced: false,
        libvirtXml: dumped.split(`${storageDir()}/`).join(''),
      });
      expect(point.configuration.libvirtXml).toContain(`<source file='volumes/${rootId}.qcow2'`);
      await guestWrite(vm.id, '0x22');

      await mustQuery(
        stack.url,
        token,
        `mutation($r: ID!) { revertToInstanceSnapshot(input: { instanceSnapshotId: $r, startAfter: true }) { job { id } } }`,
        { r: pointId },
      );
      await settled('RUNNING');
      expect(await domainState(vm.id)).toBe('running');
      await power('stopInstance', 'STOPPED');
      expect(await imageHolds(rootFile, '0x11')).toBe(true);
    },
    SLOW,
  );

  it(
    '(g) an agent restarted while the domain runs loses nothing: the same QEMU, and a live snapshot after',
    async () => {
      await power('startInstance', 'RUNNING');
      const before = await virsh('domid', domainOf(vm.id));
      await stack.agents.get(HOST)!.close();
      expect(await domainState(vm.id)).toBe('running');
      await stack.startAgent(HOST);
      expect(await virsh('domid', domainOf(vm.id))).toBe(before);

      const t0 = performance.now();
      const id = await createSnapshot();
      await waitForSnapshot(stack, token, id, 'COMPLETED', WAIT_MS);
      process.stdout.write(
        `live snapshot after the agent restart (no domstate polling alongside): ${(performance.now() - t0).toFixed(0)} ms\n`,
      );
      expect(await snapshotDetails(id)).toMatchObject({ quiesced: false });
      expect(await virsh('domid', domainOf(vm.id))).toBe(before);
      expect(await diskSnapshotTags(storageDir(), rootId)).toEqual([liveSnapshotId, pointId, id]);
    },
    SLOW,
  );

  it(
    '(h) destroys the stopped instance with its snapshots: gone, and no libvirt domain left behind',
    async () => {
      await power('stopInstance', 'STOPPED');
      expect(await domainState(vm.id)).toBe('shut off');
      await mustQuery(
        stack.url,
        token,
        `mutation($i: ID!) { destroyInstance(input: { instanceId: $i, expungeSnapshots: true }) { job { id } } }`,
        { i: vm.id },
      );
      await eventually(async () => (await instanceState()) === null, WAIT_MS, 'instance to be gone');
      expect(await domainState(vm.id)).toBeNull();
      await expect(exec('qemu-img', ['info', '-U', rootFile])).rejects.toThrow(/No such file/);
    },
    SLOW,
  );
});
