import { Logger } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import {
  AgentEventKind,
  JobFailureReason,
  JobName,
  ResultKind,
  templatePath,
  transferPath,
  type InventoryImage,
  type JobOutcome,
  type RepairTargets,
  type StorageInventory,
} from '@snapdeck/contracts';
import {
  DomainError,
  ErrorCode,
  HostState,
  InstanceState,
  JobStatus,
  Role,
  SnapshotState,
  TemplateState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, newId, type Database, type HostEntity, type JobEntity } from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import type { ApiConfig } from '../config.js';
import { AgentMessages } from '../orchestration/agent-messages.service.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { JobResultsService } from '../orchestration/job-results.service.js';
import { RecordingDispatcher } from '../orchestration/recording-dispatcher.test-support.js';
import { StorageAuditScheduler } from './storage-audit-scheduler.service.js';
import { StorageAuditsService } from './storage-audits.service.js';

/**
 * The storage audit on a real PostgreSQL: rows made directly, a synthetic inventory fed as the agent's INVENTORY
 * result, and what the applier records and repairs. The queue is a recorder, so the REPAIR_STORAGE payload is
 * read as it would be sent.
 */

const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const OLD = () => ago(2 * HOUR);
const YOUNG = () => ago(60_000);

describe('storage audit on a real database', () => {
  let db: Database;
  let close: () => Promise<void>;
  let config: ApiConfig;
  let organizationId: string;
  let environmentId: string;
  let hostCount = 0;

  beforeAll(async () => {
    if (!process.env.E2E_LOG) Logger.overrideLogger(false);
    ({ db, close } = await openTestDatabase());
    config = loadApiConfig({ STORAGE_AUDIT_ORPHAN_GRACE_MINUTES: '60', HOST_DOWN_AFTER_SECONDS: '86400' });
    organizationId = (await db.repos.organizations.create('audited')).id;
    environmentId = (await db.repos.environments.create(organizationId, 'production')).id;
    await db.repos.users.create(organizationId, 'member@example.test', Role.MEMBER);
  });
  afterAll(() => close?.());

  function stack(overrides: Record<string, string> = {}) {
    const cfg = Object.keys(overrides).length ? loadApiConfig({ ...overrides }) : config;
    const dispatcher = new RecordingDispatcher();
    const launcher = new JobLauncher(db, dispatcher, cfg);
    const results = new JobResultsService(db, cfg, launcher);
    return { dispatcher, results, audits: new StorageAuditsService(db, launcher, cfg) };
  }

  async function host(): Promise<HostEntity> {
    return db.repos.hosts.recordHeartbeat({
      hostName: `audit-${++hostCount}`,
      driver: 'qemu-img',
      agentVersion: '0.5.0',
      at: new Date(),
    });
  }

  async function instance(on: HostEntity, state = InstanceState.STOPPED) {
    return db.repos.instances.create({
      organizationId,
      environmentId,
      hostId: on.id,
      name: `vm-${newId().slice(-12)}`,
      state,
    });
  }

  async function volume(on: HostEntity, state = VolumeState.READY, instanceId: string | null = null) {
    const [row] = await db.repos.volumes.createMany([
      {
        organizationId,
        environmentId,
        instanceId,
        hostId: on.id,
        name: 'ROOT',
        type: VolumeType.ROOT,
        state,
        sizeGiB: 1,
      },
    ]);
    return row;
  }

  async function snapshot(volumeId: string, state = SnapshotState.COMPLETED) {
    return db.repos.snapshots.create({
      organizationId,
      environmentId,
      volumeId,
      instanceId: null,
      name: `s-${newId().slice(-12)}`,
      description: null,
      state,
      lastJobId: null,
    });
  }

  function image(kind: InventoryImage['kind'], id: string, extra: Partial<InventoryImage> = {}): InventoryImage {
    const path = kind === 'volume' ? `volumes/${id}.qcow2` : kind === 'template' ? templatePath(id) : transferPath(id);
    return {
      kind,
      id,
      path,
      sizeBytes: 196_608,
      virtualSizeBytes: 1 << 30,
      modifiedAt: OLD(),
      inUse: false,
      tags: [],
      check: { status: 'clean' },
      ...extra,
    };
  }

  const tag = (name: string, createdAt = OLD()) => ({ tag: name, createdAt, vmStateBytes: 0 });

  /** Opens an audit of `on` and answers its INVENTORY job with `images`, listed now. */
  async function audit(
    on: HostEntity,
    images: InventoryImage[],
    options: { repair?: boolean; takenAt?: Date; s?: ReturnType<typeof stack> } = {},
  ) {
    const s = options.s ?? stack();
    const opened = await s.audits.audit({ userId: null }, on.id, options.repair ?? false);
    const inventory: StorageInventory = { takenAt: (options.takenAt ?? new Date()).toISOString(), images };
    await finish(s, opened.job, { ok: true, data: inventory });
    const row = (await db.repos.storageAudits.findById(opened.storageAudit.id))!;
    return { ...s, row, job: opened.job };
  }

  function finish<N extends JobName>(s: ReturnType<typeof stack>, job: JobEntity, outcome: JobOutcome<N>) {
    return s.results.finished({
      kind: ResultKind.FINISHED,
      jobId: job.id,
      attempt: job.attempt,
      hostName: 'any',
      name: job.type,
      outcome,
      at: new Date().toISOString(),
    });
  }

  const kinds = (row: { findings: Array<Record<string, unknown>> | null }) =>
    (row.findings ?? []).map((f) => f.kind).sort();
  const eventsOf = async (resourceId: string) =>
    (await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId }, { first: 100 })).items;
  const eventTypes = async (resourceId: string) => (await eventsOf(resourceId)).map((e) => e.type).sort();
  const repairPayload = (dispatcher: RecordingDispatcher) =>
    dispatcher.sent.find((x) => x.envelope.name === JobName.REPAIR_STORAGE)?.envelope.payload as
      RepairTargets | undefined;

  it('finds nothing when the disks hold exactly what the rows say, and closes the audit', async () => {
    const h = await host();
    const vm = await instance(h);
    const [root, data] = [await volume(h, VolumeState.READY, vm.id), await volume(h, VolumeState.READY, vm.id)];
    const s1 = await snapshot(root.id);
    const point = await db.repos.instanceSnapshots.create({
      organizationId,
      environmentId,
      instanceId: vm.id,
      volumeIds: [root.id, data.id],
      name: 'rp',
      description: null,
      state: SnapshotState.COMPLETED,
      withMemory: false,
      lastJobId: null,
    });
    const template = await db.repos.templates.create({
      organizationId,
      name: 'golden',
      description: null,
      state: TemplateState.READY,
      public: false,
      sourceSnapshotId: null,
      lastJobId: null,
    });
    const { row, job, dispatcher } = await audit(h, [
      image('volume', root.id, { tags: [tag(s1.id), tag(point.id)] }),
      image('volume', data.id, { tags: [tag(point.id)] }),
      image('template', template.id),
    ]);
    expect(dispatcher.sent.map((x) => x.envelope)).toEqual([
      expect.objectContaining({ name: JobName.INVENTORY, payload: { checkTimeoutSeconds: 60 } }),
    ]);
    expect(row).toMatchObject({
      orphanTags: 0,
      missingSnapshots: 0,
      missingVolumes: 0,
      orphanFiles: 0,
      damagedImages: 0,
      findings: [],
      repairJobId: null,
    });
    expect(row.finishedAt).not.toBeNull();
    expect(row.startedAt).not.toBeNull();
    expect((await db.repos.jobs.findForOrchestration(job.id))!.status).toBe(JobStatus.SUCCEEDED);
    expect(await eventTypes(row.id)).toEqual(['storage.audit_completed']);
  });

  it('reports every kind of finding, and without repair changes no state', async () => {
    const h = await host();
    const other = await host();
    const vm = await instance(h);
    const root = await volume(h, VolumeState.READY, vm.id);
    const gone = await volume(h, VolumeState.READY, vm.id);
    const onGone = await snapshot(gone.id);
    const missing = await snapshot(root.id);
    const destroying = await snapshot(root.id, SnapshotState.DESTROYING);
    const elsewhere = await volume(other);
    const damaged = await volume(h);
    const leaky = await volume(h);
    // A running domain's disk read with -U shows the leaks of QEMU's unflushed refcounts: not a finding.
    const leakyInUse = await volume(h);
    const point = await db.repos.instanceSnapshots.create({
      organizationId,
      environmentId,
      instanceId: vm.id,
      volumeIds: [root.id],
      name: 'rp-missing',
      description: null,
      state: SnapshotState.COMPLETED,
      withMemory: false,
      lastJobId: null,
    });
    const stray = newId();
    const strayFile = newId();
    const strayTemplate = newId();
    const strayTransfer = newId();
    const { row, dispatcher } = await audit(h, [
      image('volume', root.id, { tags: [tag(stray), tag(destroying.id)] }),
      image('volume', strayFile),
      image('volume', 'garbage', { check: { status: 'unreadable', message: 'Image is not in qcow2 format' } }),
      image('volume', elsewhere.id),
      image('volume', damaged.id, { check: { status: 'corrupt', corruptions: 3 } }),
      image('volume', leaky.id, { check: { status: 'leaks', leakedClusters: 1026 } }),
      image('volume', leakyInUse.id, { inUse: true, check: { status: 'leaks', leakedClusters: 1 } }),
      image('template', strayTemplate),
      image('transfer', strayTransfer),
    ]);
    expect(row).toMatchObject({
      orphanTags: 2, // the stray tag, and the tag of a DESTROYING row with no open delete job
      orphanFiles: 5, // a file with no row, a garbage file, another host's volume, a template, a transfer
      missingSnapshots: 3, // a tag gone, a snapshot on a volume whose file is gone, a recovery point
      missingVolumes: 1,
      damagedImages: 1, // leaks are a warning, not counted
    });
    expect(kinds(row)).toEqual(
      [
        'damaged_image',
        'image_leaks',
        'missing_recovery_point',
        'missing_snapshot',
        'missing_snapshot',
        'missing_volume',
        ...Array(5).fill('orphan_file'),
        'orphan_tag',
        'orphan_tag',
      ].sort(),
    );
    expect(row.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'orphan_tag', tag: stray, volumeId: root.id, repairable: true }),
        expect.objectContaining({ kind: 'orphan_tag', tag: destroying.id, repairable: false }),
        expect.objectContaining({ kind: 'missing_snapshot', snapshotId: missing.id, repair: 'none' }),
        expect.objectContaining({ kind: 'missing_snapshot', snapshotId: onGone.id }),
        expect.objectContaining({ kind: 'missing_recovery_point', instanceSnapshotId: point.id }),
        expect.objectContaining({ kind: 'missing_volume', volumeId: gone.id, instanceId: vm.id }),
        expect.objectContaining({ kind: 'orphan_file', volumeId: 'garbage', repairable: false }),
        expect.objectContaining({ kind: 'orphan_file', volumeId: elsewhere.id, repairable: false }),
      ]),
    );
    // No host paths in what an operator reads.
    expect(JSON.stringify(row.findings)).not.toMatch(/volumes\/|\.qcow2/);
    expect(repairPayload(dispatcher)).toBeUndefined();
    expect((await db.repos.snapshots.findById(ALL_ORGANIZATIONS, missing.id))!.state).toBe(SnapshotState.COMPLETED);
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, gone.id))!.state).toBe(VolumeState.READY);
    expect((await db.repos.instances.findById(ALL_ORGANIZATIONS, vm.id))!.state).toBe(InstanceState.STOPPED);
    expect(await eventTypes(missing.id)).toEqual(['storage.missing_found']);
    expect(await eventTypes(damaged.id)).toEqual(['storage.damaged_found']);
    expect(await eventTypes(row.id)).toEqual(['storage.audit_completed', 'storage.orphan_found']);
  });

  it('never reports what is mid-operation, young, or newer than the inventory', async () => {
    const h = await host();
    const root = await volume(h);
    const inProgress = await snapshot(root.id, SnapshotState.IN_PROGRESS);
    const deleting = await volume(h);
    const beingDeleted = await snapshot(deleting.id, SnapshotState.DESTROYING);
    await db.repos.jobs.create({
      organizationId,
      type: JobName.DELETE_SNAPSHOT,
      hostId: h.id,
      resourceType: 'Snapshot',
      resourceId: beingDeleted.id,
      payload: { volumeId: deleting.id, snapshotId: beingDeleted.id },
      createdByUserId: null,
    });
    const creating = await volume(h, VolumeState.CREATING);
    const snapshotting = await volume(h, VolumeState.SNAPSHOTTING);
    const exportJob = await db.repos.jobs.create({
      organizationId,
      type: JobName.EXPORT_SNAPSHOT,
      hostId: h.id,
      resourceType: 'Volume',
      resourceId: newId(),
      payload: { volumeId: root.id, snapshotId: newId(), destination: '' },
      createdByUserId: null,
    });
    const takenAt = new Date();
    // Made after the listing began: the inventory cannot judge them.
    const newer = await snapshot(root.id);
    const newerVolume = await volume(h);
    // A volume destroyed after the listing: its row went with a job that closed since takenAt.
    const destroyedId = newId();
    const destroyJob = await db.repos.jobs.create({
      organizationId,
      type: JobName.DESTROY_VOLUMES,
      hostId: h.id,
      resourceType: 'Volume',
      resourceId: destroyedId,
      payload: { volumeIds: [destroyedId] },
      createdByUserId: null,
    });
    await db.repos.jobs.finish(destroyJob.id, JobStatus.SUCCEEDED, { destroyed: [destroyedId] }, null, new Date());
    const { row } = await audit(
      h,
      [
        image('volume', root.id, { tags: [tag(newId(), YOUNG())] }),
        image('volume', deleting.id, { tags: [tag(beingDeleted.id)] }),
        image('volume', snapshotting.id, { tags: [tag(newId())], check: { status: 'corrupt' } }),
        image('volume', newId(), { modifiedAt: YOUNG() }),
        image('volume', destroyedId),
        image('transfer', exportJob.id),
        image('template', newId(), { modifiedAt: YOUNG() }),
      ],
      { takenAt },
    );
    expect(row.findings).toEqual([]);
    expect(row).toMatchObject({ orphanTags: 0, orphanFiles: 0, missingSnapshots: 0, missingVolumes: 0 });
    // Named to show what was judged: IN_PROGRESS without a tag, CREATING without a file, rows after takenAt.
    expect([inProgress.id, creating.id, newer.id, newerVolume.id]).toHaveLength(4);
  });

  it('repairs: missing things become ERROR, and only orphans no row owns are sent to be removed', async () => {
    const h = await host();
    const other = await host();
    const vm = await instance(h, InstanceState.RUNNING);
    const root = await volume(h, VolumeState.READY, vm.id);
    const gone = await volume(h, VolumeState.READY, vm.id);
    const missing = await snapshot(root.id);
    const destroying = await snapshot(root.id, SnapshotState.DESTROYING);
    const elsewhere = await volume(other);
    const owned = await snapshot(root.id);
    // Failed by the api while a frozen agent still wrote its tag: an ERROR row does not own a tag.
    const failedLate = await snapshot(root.id, SnapshotState.ERROR);
    // …but on a volume that is itself ERROR (its image damaged), nothing is touched.
    const broken = await volume(h, VolumeState.ERROR, vm.id);
    const failedOnBroken = await snapshot(broken.id, SnapshotState.ERROR);
    const stray = newId();
    const strayFile = newId();
    const strayTransfer = newId();
    const takenAt = new Date();
    const { row, dispatcher, job, ...s } = await audit(
      h,
      [
        image('volume', root.id, {
          tags: [tag(stray), tag(destroying.id), tag(owned.id), tag(failedLate.id), tag(newId(), YOUNG())],
        }),
        image('volume', broken.id, { tags: [tag(failedOnBroken.id)] }),
        image('volume', strayFile),
        image('volume', 'garbage', { check: { status: 'unreadable' } }),
        image('volume', elsewhere.id),
        image('transfer', strayTransfer),
      ],
      { repair: true, takenAt },
    );
    const since = `missing on disk since ${takenAt.toISOString()}`;
    expect(await db.repos.snapshots.findById(ALL_ORGANIZATIONS, missing.id)).toMatchObject({
      state: SnapshotState.ERROR,
      error: since,
    });
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, gone.id))!.state).toBe(VolumeState.ERROR);
    expect((await db.repos.instances.findById(ALL_ORGANIZATIONS, vm.id))!.state).toBe(InstanceState.ERROR);
    expect((await db.repos.snapshots.findById(ALL_ORGANIZATIONS, owned.id))!.state).toBe(SnapshotState.COMPLETED);
    // The tenant's event, in its organization: what its notification will hang on.
    const failed = (await eventsOf(missing.id)).find((e) => e.type === 'snapshot.failed');
    expect(failed).toMatchObject({ organizationId, message: expect.stringContaining(since) });
    expect(await eventTypes(gone.id)).toEqual(['storage.missing_found', 'volume.failed']);
    expect(await eventTypes(vm.id)).toEqual(['instance.failed']);

    const targets = repairPayload(dispatcher)!;
    expect(targets).toEqual({
      tags: [
        { volumeId: root.id, tag: stray, instanceId: vm.id },
        { volumeId: root.id, tag: failedLate.id, instanceId: vm.id },
      ],
      volumeIds: [strayFile],
      templateIds: [],
      transferPaths: [transferPath(strayTransfer)],
    });
    // Nothing a row owns is ever a target (root.id appears only as the volume the stray tag is in).
    for (const id of [gone.id, elsewhere.id, missing.id, destroying.id, owned.id, broken.id, failedOnBroken.id])
      expect(JSON.stringify(targets)).not.toContain(id);
    expect(targets.volumeIds).not.toContain(root.id);

    // Open until REPAIR_STORAGE reports: state follows the repair job.
    expect(row.finishedAt).toBeNull();
    expect(row.repairJobId).not.toBeNull();
    await expect(stack().audits.audit({ userId: null }, h.id, false)).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });
    const repairJob = (await db.repos.jobs.findForOrchestration(row.repairJobId!))!;
    expect(repairJob).toMatchObject({ type: JobName.REPAIR_STORAGE, resourceId: row.id, hostId: h.id });
    await finish({ ...s, dispatcher }, repairJob, {
      ok: true,
      data: {
        removed: [`tag:${root.id}/${stray}`, `volume:${strayFile}`],
        failed: [{ target: 'transfer:x', message: 'busy' }],
      },
    });
    const closed = (await db.repos.storageAudits.findById(row.id))!;
    expect(closed.finishedAt).not.toBeNull();
    expect(closed.repairReport).toMatchObject({ removed: [`tag:${root.id}/${stray}`, `volume:${strayFile}`] });
    expect(await eventTypes(row.id)).toEqual([
      'storage.audit_completed',
      'storage.orphan_found',
      'storage.repair_completed',
    ]);
    expect(job.type).toBe(JobName.INVENTORY);
  });

  it('opens one audit per host at a time; the periodic one only when due; DOWN is PRECONDITION_FAILED, unknown NOT_FOUND', async () => {
    const s = stack({ STORAGE_AUDIT_INTERVAL_MINUTES: '60', STORAGE_AUDIT_AUTO_REPAIR: 'true' });
    const h = await host();
    const first = await s.audits.audit({ userId: null }, h.id, false);
    await expect(s.audits.audit({ userId: null }, h.id, true)).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    // Three replicas racing for a fresh host: the partial unique index lets exactly one open.
    const fresh = await host();
    const raced = await Promise.all(
      [1, 2, 3].map(() =>
        stack()
          .audits.audit({ userId: null }, fresh.id, false)
          .then(() => 'opened')
          .catch((e: DomainError) => e.code),
      ),
    );
    expect(raced.sort()).toEqual(['opened', ErrorCode.CONFLICT, ErrorCode.CONFLICT].sort());
    await finish(s, first.job, { ok: false, message: 'agent gone' });
    expect((await db.repos.storageAudits.findById(first.storageAudit.id))!.finishedAt).not.toBeNull();
    expect(await eventTypes(first.storageAudit.id)).toEqual(['storage.audit_failed']);
    // A new host (registered within the interval) and a host audited within it are not due.
    expect(await s.audits.auditIfDue(h)).toBeNull();
    await db.dataSource.query(`UPDATE hosts SET created_at = now() - interval '2 hours' WHERE id = $1`, [h.id]);
    expect(await s.audits.auditIfDue(h)).toBeNull();
    await db.dataSource.query(`UPDATE storage_audits SET created_at = now() - interval '2 hours' WHERE host_id = $1`, [
      h.id,
    ]);
    const due = await Promise.all([s.audits.auditIfDue(h), stack().audits.auditIfDue(h)]);
    expect(due.filter((d) => d !== null)).toHaveLength(1);
    expect(due.find((d) => d)!.storageAudit.repaired).toBe(true);

    await expect(s.audits.audit({ userId: null }, newId(), false)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    const down = await host();
    await db.dataSource.query(`UPDATE hosts SET state = $2 WHERE id = $1`, [down.id, HostState.DOWN]);
    await expect(s.audits.audit({ userId: null }, down.id, false)).rejects.toMatchObject({
      code: ErrorCode.PRECONDITION_FAILED,
    });
    expect(await db.repos.storageAudits.findOpen(down.id)).toBeNull();
  });

  it('the periodic pass audits every UP host that is due, once, and never a DOWN one', async () => {
    const cfg = loadApiConfig({ STORAGE_AUDIT_INTERVAL_MINUTES: '30', STORAGE_AUDIT_AUTO_REPAIR: 'false' });
    const s = stack({ STORAGE_AUDIT_INTERVAL_MINUTES: '30', STORAGE_AUDIT_AUTO_REPAIR: 'false' });
    const [due, down, fresh] = [await host(), await host(), await host()];
    await db.dataSource.query(`UPDATE hosts SET created_at = now() - interval '1 hour' WHERE id = ANY($1)`, [
      [due.id, down.id],
    ]);
    await db.dataSource.query(`UPDATE hosts SET state = $2 WHERE id = $1`, [down.id, HostState.DOWN]);
    // The other hosts of this file registered within the interval or have an audit open: only `due` is due.
    const schedulers = [1, 2].map(() => new StorageAuditScheduler(db, s.audits, cfg));
    const opened = await Promise.all(schedulers.map((x) => x.auditDueHosts()));
    expect(opened.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await db.repos.storageAudits.findOpen(due.id)).toMatchObject({ repaired: false });
    expect(await db.repos.storageAudits.findOpen(down.id)).toBeNull();
    expect(await db.repos.storageAudits.findOpen(fresh.id)).toBeNull();
    expect(s.dispatcher.sent.filter((x) => x.hostName === due.name).map((x) => x.envelope.name)).toEqual([
      JobName.INVENTORY,
    ]);
  });

  it('marks the snapshot ERROR when a revert fails because its tag is missing, and the volume is READY again', async () => {
    const s = stack();
    const h = await host();
    const root = await volume(h, VolumeState.REVERTING);
    const snap = await snapshot(root.id);
    const job = await db.repos.jobs.create({
      organizationId,
      type: JobName.REVERT_SNAPSHOT,
      hostId: h.id,
      resourceType: 'Volume',
      resourceId: root.id,
      payload: { volumeId: root.id, snapshotId: snap.id },
      createdByUserId: null,
    });
    await finish(s, job, {
      ok: false,
      message: `Snapshot ${snap.id} is not in the image`,
      reason: JobFailureReason.SNAPSHOT_MISSING,
    });
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, root.id))!.state).toBe(VolumeState.READY);
    const after = (await db.repos.snapshots.findById(ALL_ORGANIZATIONS, snap.id))!;
    expect(after.state).toBe(SnapshotState.ERROR);
    expect(after.error).toMatch(/^missing on disk since \d{4}-/);
    expect(await eventTypes(snap.id)).toEqual(['snapshot.failed']);
  });

  it('says a deleted snapshot was already missing when the agent found no tag', async () => {
    const s = stack();
    const h = await host();
    const root = await volume(h);
    const snap = await snapshot(root.id, SnapshotState.DESTROYING);
    const job = await db.repos.jobs.create({
      organizationId,
      type: JobName.DELETE_SNAPSHOT,
      hostId: h.id,
      resourceType: 'Snapshot',
      resourceId: snap.id,
      payload: { volumeId: root.id, snapshotId: snap.id },
      createdByUserId: null,
    });
    await finish(s, job, { ok: true, data: { snapshotId: snap.id, alreadyGone: true } });
    const [event] = (await db.repos.events.list(ALL_ORGANIZATIONS, { resourceId: snap.id }, { first: 5 })).items;
    expect(event.message).toBe('Snapshot removed: it was already missing from disk');
  });

  it("applies an agent's image checks: damaged → volume ERROR; repaired → an event; another host's volume → ignored", async () => {
    const s = stack();
    const messages = new AgentMessages(config, db, s.results, s.dispatcher);
    const h = await host();
    const [damaged, repaired] = [await volume(h), await volume(h)];
    const at = new Date().toISOString();
    await messages.agentEvent({
      kind: AgentEventKind.IMAGE_CHECKED,
      hostName: h.name,
      at,
      volumeId: damaged.id,
      status: 'damaged',
      message: 'further writes may corrupt',
    });
    await messages.agentEvent({
      kind: AgentEventKind.IMAGE_CHECKED,
      hostName: h.name,
      at,
      volumeId: repaired.id,
      status: 'repaired',
      leakedClusters: 1026,
      message: 'leaks repaired',
    });
    await messages.agentEvent({
      kind: AgentEventKind.IMAGE_CHECKED,
      hostName: 'someone-else',
      at,
      volumeId: repaired.id,
      status: 'damaged',
      message: 'x',
    });
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, damaged.id))!.state).toBe(VolumeState.ERROR);
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, repaired.id))!.state).toBe(VolumeState.READY);
    expect(await eventTypes(damaged.id)).toEqual(['volume.image_damaged']);
    expect(await eventTypes(repaired.id)).toEqual(['volume.image_repaired']);
  });
});
