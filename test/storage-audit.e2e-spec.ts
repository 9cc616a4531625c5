import { describeWith } from '@snapdeck/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { diskSnapshotTags, volumePath } from './support/disk.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { errorCodes, eventually, mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const exec = promisify(execFile);

const AUDIT = `mutation($input: AuditStorageInput!) {
  auditStorage(input: $input) { storageAudit { id state repaired } job { id type status } }
}`;
const AUDIT_FIELDS = `id state repaired startedAt finishedAt orphanTags missingSnapshots missingVolumes orphanFiles
  damagedImages findings host { name }`;
const AUDITS = `query($hostId: ID) { storageAudits(hostId: $hostId, first: 10) { edges { node { ${AUDIT_FIELDS} } } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on StorageAudit { ${AUDIT_FIELDS} } } }`;
const CREATE_SNAPSHOT = `mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { id } } }`;

interface Audit {
  id: string;
  state: string;
  repaired: boolean;
  finishedAt: string | null;
  orphanTags: number;
  missingSnapshots: number;
  missingVolumes: number;
  orphanFiles: number;
  damagedImages: number;
  findings: Array<Record<string, unknown>> | null;
  host: { name: string };
}

/**
 * The storage audit end to end: GraphQL → INVENTORY on a qemu-img agent → comparison → REPAIR_STORAGE, on real
 * qcow2 files changed behind the agent's back with qemu-img, as an operator (or a failure) would. The grace period
 * is 0 so a tag made seconds ago counts; the periodic audit is off so only the test's audits run.
 */
describeWith(['redis', 'qemu-img'], 'storage audit of real qcow2 disks', () => {
  let stack: Stack;
  let tenant: Tenant;

  beforeAll(async () => {
    stack = await startStack({
      agents: ['kvm-clean', 'kvm-tags', 'kvm-files'],
      apiEnv: { STORAGE_AUDIT_ORPHAN_GRACE_MINUTES: '0', STORAGE_AUDIT_INTERVAL_MINUTES: '0' },
    });
    tenant = await createTenant(stack);
  });
  afterAll(() => stack?.close());

  const storageDir = (host: string) => stack.agents.get(host)!.storageDir;

  /** Audits a host as the platform administrator and waits until the audit (and its repair) closed. */
  async function audit(host: string, repair: boolean): Promise<Audit> {
    const hostId = await stack.hostId(host);
    const { auditStorage } = await mustQuery(stack.url, stack.adminToken, AUDIT, { input: { hostId, repair } });
    expect(auditStorage.job.type).toBe('INVENTORY');
    expect(auditStorage.storageAudit.repaired).toBe(repair);
    return eventually(
      async () => {
        const { node } = await mustQuery<{ node: Audit }>(stack.url, stack.adminToken, NODE, {
          id: auditStorage.storageAudit.id,
        });
        return node.finishedAt ? node : null;
      },
      60000,
      `audit of ${host} to finish`,
    );
  }

  async function snapshotOf(volumeId: string): Promise<string> {
    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE_SNAPSHOT, {
      input: { volumeId },
    });
    await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
    return createSnapshot.snapshot.id as string;
  }

  it('finds nothing on a clean host', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'clean-1',
      hostId: await stack.hostId('kvm-clean'),
    });
    await snapshotOf(instance.volumes[0].id);
    const result = await audit('kvm-clean', false);
    expect(result).toMatchObject({
      state: 'SUCCEEDED',
      host: { name: 'kvm-clean' },
      orphanTags: 0,
      missingSnapshots: 0,
      missingVolumes: 0,
      orphanFiles: 0,
      damagedImages: 0,
      findings: [],
    });
  });

  it('finds a tag deleted and a tag added behind the agent, and repair marks the one ERROR and removes the other', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'tags-1',
      hostId: await stack.hostId('kvm-tags'),
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const lost = await snapshotOf(root.id);
    const kept = await snapshotOf(root.id);
    const stray = randomUUID();
    const file = volumePath(storageDir('kvm-tags'), root.id);
    await exec('qemu-img', ['snapshot', '-d', lost, file]);
    await exec('qemu-img', ['snapshot', '-c', stray, file]);

    const report = await audit('kvm-tags', false);
    expect(report).toMatchObject({ state: 'SUCCEEDED', orphanTags: 1, missingSnapshots: 1, missingVolumes: 0 });
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'orphan_tag', tag: stray, volumeId: root.id, repair: 'none' }),
        expect.objectContaining({ kind: 'missing_snapshot', snapshotId: lost }),
      ]),
    );
    expect((await diskSnapshotTags(storageDir('kvm-tags'), root.id)).sort()).toEqual([kept, stray].sort());

    const repaired = await audit('kvm-tags', true);
    expect(repaired).toMatchObject({ state: 'SUCCEEDED', repaired: true, orphanTags: 1, missingSnapshots: 1 });
    const snapshot = await waitForSnapshot(stack, tenant.tokens.MEMBER, lost, 'ERROR');
    expect(snapshot.error).toMatch(/^missing on disk since \d{4}-\d{2}-\d{2}T/);
    expect(await diskSnapshotTags(storageDir('kvm-tags'), root.id)).toEqual([kept]);
    expect(repaired.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'repair_report', removed: [`tag:${root.id}/${stray}`] }),
      ]),
    );

    // Repaired: the next audit finds nothing (the ERROR snapshot is no longer said to be on disk).
    expect(await audit('kvm-tags', false)).toMatchObject({ orphanTags: 0, missingSnapshots: 0, findings: [] });
  });

  it('finds a volume file removed and a garbage file; repair makes the volume and its instance ERROR and removes the garbage', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'files-1',
      hostId: await stack.hostId('kvm-files'),
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    await rm(volumePath(storageDir('kvm-files'), root.id));
    // Named as a volume would be (the agent lists only names of the layout), but no row owns it and it is no qcow2.
    const garbage = randomUUID();
    await writeFile(volumePath(storageDir('kvm-files'), garbage), 'not an image at all');

    const result = await audit('kvm-files', true);
    expect(result).toMatchObject({ missingVolumes: 1, orphanFiles: 1, damagedImages: 0 });
    expect(result.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'missing_volume', volumeId: root.id, instanceId: instance.id }),
        expect.objectContaining({
          kind: 'orphan_file',
          volumeId: garbage,
          repairable: true,
          check: expect.objectContaining({ status: 'unreadable' }),
        }),
        expect.objectContaining({ kind: 'repair_report', removed: [`volume:${garbage}`] }),
      ]),
    );
    const { instance: after } = await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `query($id: ID!) { instance(id: $id) { state volumes { id state } } }`,
      { id: instance.id },
    );
    expect(after).toMatchObject({ state: 'ERROR', volumes: [{ id: root.id, state: 'ERROR' }] });
    await expect(stat(volumePath(storageDir('kvm-files'), garbage))).rejects.toMatchObject({ code: 'ENOENT' });
    // No host path reaches a client.
    expect(JSON.stringify(result.findings)).not.toContain(storageDir('kvm-files'));
  });

  it('marks a snapshot ERROR when a revert finds its tag gone, instead of leaving it COMPLETED', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'revert-1',
      hostId: await stack.hostId('kvm-clean'),
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const lost = await snapshotOf(root.id);
    await exec('qemu-img', ['snapshot', '-d', lost, volumePath(storageDir('kvm-clean'), root.id)]);
    await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `mutation($s: ID!) { revertVolumeToSnapshot(input: { snapshotId: $s }) { job { id } } }`,
      { s: lost },
    );
    const snapshot = await waitForSnapshot(stack, tenant.tokens.MEMBER, lost, 'ERROR');
    expect(snapshot.error).toMatch(/^missing on disk since /);
    expect(snapshot.volume.state).toBe('READY');
  });

  it('lists audits per host, and exposes the latest findings per host to Prometheus', async () => {
    const { storageAudits } = await mustQuery(stack.url, stack.adminToken, AUDITS, {
      hostId: await stack.hostId('kvm-files'),
    });
    expect(storageAudits.edges.map((e: { node: Audit }) => e.node.host.name)).toEqual(['kvm-files']);
    const all = await mustQuery(stack.url, stack.adminToken, AUDITS, {});
    const hosts = new Set(all.storageAudits.edges.map((e: { node: Audit }) => e.node.host.name));
    expect([...hosts].sort()).toEqual(['kvm-clean', 'kvm-files', 'kvm-tags']);
    expect(await errorCodes(stack.url, stack.adminToken, AUDITS, { hostId: 'kvm-files' })).toEqual(['BAD_USER_INPUT']);
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(metrics).toContain('snapdeck_storage_audit_findings{host="kvm-files",kind="missing_volumes"} 1');
    expect(metrics).toContain('snapdeck_storage_audit_findings{host="kvm-clean",kind="orphan_tags"} 0');
  });

  it('is for platform administrators only: FORBIDDEN to every organization role, and node() shows them nothing', async () => {
    const hostId = await stack.hostId('kvm-clean');
    const { storageAudits } = await mustQuery(stack.url, stack.adminToken, AUDITS, { hostId });
    const auditId = storageAudits.edges[0].node.id as string;
    for (const token of Object.values(tenant.tokens)) {
      expect(await errorCodes(stack.url, token, AUDIT, { input: { hostId } })).toEqual(['FORBIDDEN']);
      expect(await errorCodes(stack.url, token, AUDITS, { hostId })).toEqual(['FORBIDDEN']);
      const { node } = await mustQuery(stack.url, token, NODE, { id: auditId });
      expect(node).toBeNull();
    }
  });

  it('answers NOT_FOUND for an unknown host, and CONFLICT while an audit of the host runs', async () => {
    expect(await errorCodes(stack.url, stack.adminToken, AUDIT, { input: { hostId: randomUUID() } })).toEqual([
      'NOT_FOUND',
    ]);
    const hostId = await stack.hostId('kvm-clean');
    const [first, second] = await Promise.all([
      errorCodes(stack.url, stack.adminToken, AUDIT, { input: { hostId } }),
      errorCodes(stack.url, stack.adminToken, AUDIT, { input: { hostId } }),
    ]);
    expect([first, second].map((codes) => codes.join()).sort()).toEqual(['', 'CONFLICT']);
  });
});
