import { JobStatus, type SnapshotState, type VolumeState } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { StorageAuditEntity, type StorageAuditCounts } from '../entities/storage-audit.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { returnedRows } from '../sql.js';

/** The rows one audit compares a host's inventory with: the host's own, and those the inventory names. */
export interface AuditRecords {
  volumes: Array<{
    id: string;
    organizationId: string;
    hostId: string;
    instanceId: string | null;
    state: VolumeState;
    createdAt: Date;
  }>;
  snapshots: Array<{
    id: string;
    organizationId: string;
    volumeId: string;
    state: SnapshotState;
    createdAt: Date;
    completedAt: Date | null;
  }>;
  instanceSnapshots: Array<{
    id: string;
    organizationId: string;
    instanceId: string;
    volumeIds: string[];
    state: SnapshotState;
    createdAt: Date;
    completedAt: Date | null;
  }>;
  templates: Array<{ id: string; state: string }>;
  /**
   * Every id and path that a job open now, or closed since the inventory was taken, works on (its id, its
   * resource, every string of its payload): whatever such a job touches is mid-operation, never a finding.
   */
  busy: Set<string>;
}

export interface NewStorageAudit {
  hostId: string;
  repaired: boolean;
  orphanGraceMinutes: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Storage audits are platform data (no organization): only platform staff read them. */
export class StorageAuditRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Opens an audit of a host unless one is open already (the partial unique index decides, so two replicas
   * or two administrators cannot both open one): null when one is. With `notWithinMinutes`, also null when an
   * audit of the host was created that recently or the host registered that recently (the periodic audit).
   */
  async open(values: NewStorageAudit, notWithinMinutes?: number): Promise<StorageAuditEntity | null> {
    const id = newId();
    const due =
      notWithinMinutes === undefined
        ? ''
        : `AND NOT EXISTS (SELECT 1 FROM storage_audits a WHERE a.host_id = $2 AND a.created_at > now() - make_interval(mins => $5))
           AND EXISTS (SELECT 1 FROM hosts h WHERE h.id = $2 AND h.created_at <= now() - make_interval(mins => $5))`;
    const rows: unknown = await this.manager.query(
      `INSERT INTO storage_audits (id, host_id, repaired, orphan_grace_minutes)
       SELECT $1, $2, $3, $4 WHERE TRUE ${due}
       ON CONFLICT (host_id) WHERE finished_at IS NULL DO NOTHING
       RETURNING id`,
      notWithinMinutes === undefined
        ? [id, values.hostId, values.repaired, values.orphanGraceMinutes]
        : [id, values.hostId, values.repaired, values.orphanGraceMinutes, notWithinMinutes],
    );
    if (returnedRows(rows).length === 0) return null;
    return this.findById(id);
  }

  /** The open audit of a host, if any. */
  findOpen(hostId: string): Promise<StorageAuditEntity | null> {
    return this.manager
      .createQueryBuilder(StorageAuditEntity, 'sa')
      .where('sa.host_id = :hostId', { hostId })
      .andWhere('sa.finished_at IS NULL')
      .getOne();
  }

  async setJob(id: string, column: 'jobId' | 'repairJobId', jobId: string): Promise<void> {
    await this.manager.update(StorageAuditEntity, { id }, { [column]: jobId });
  }

  findById(id: string): Promise<StorageAuditEntity | null> {
    return this.manager.findOneBy(StorageAuditEntity, { id });
  }

  list(filter: { hostId?: string | null }, page: PageRequest): Promise<Page<StorageAuditEntity>> {
    const qb = this.manager.createQueryBuilder(StorageAuditEntity, 'sa');
    if (filter.hostId) qb.where('sa.host_id = :hostId', { hostId: filter.hostId });
    return paginate(qb, 'sa', page);
  }

  /** Records the comparison; `finished`: nothing follows (no repair job), so the audit closes. */
  async recordFindings(
    id: string,
    values: StorageAuditCounts & { findings: Array<Record<string, unknown>>; startedAt: Date; finished: boolean },
  ): Promise<void> {
    const { finished, ...columns } = values;
    const changes = { ...columns, finishedAt: finished ? new Date() : null };
    // TypeORM's deep-partial type cannot follow a jsonb column of records; the values are the entity's own.
    await this.manager.update(StorageAuditEntity, { id }, changes as QueryDeepPartialEntity<StorageAuditEntity>);
  }

  /** Closes an audit: its inventory failed, or its repair reported (`repairReport`). */
  async finish(id: string, repairReport: Record<string, unknown> | null = null): Promise<boolean> {
    const rows: unknown = await this.manager.query(
      `UPDATE storage_audits SET finished_at = now(), repair_report = COALESCE($2, repair_report)
       WHERE id = $1 AND finished_at IS NULL RETURNING id`,
      [id, repairReport],
    );
    return returnedRows(rows).length === 1;
  }

  /**
   * The counts of the latest finished audit of each host, for the Prometheus gauges: one row per host read
   * through idx_storage_audits_host, never a count of the tables audited.
   */
  async latestCountsPerHost(): Promise<Array<StorageAuditCounts & { hostName: string }>> {
    const rows: Array<Record<string, string | number>> = await this.manager.query(
      `SELECT h.name AS "hostName", a.orphan_tags AS "orphanTags", a.missing_snapshots AS "missingSnapshots",
              a.missing_volumes AS "missingVolumes", a.orphan_files AS "orphanFiles",
              a.damaged_images AS "damagedImages"
       FROM hosts h
       CROSS JOIN LATERAL (
         SELECT * FROM storage_audits s WHERE s.host_id = h.id AND s.finished_at IS NOT NULL
         ORDER BY s.id DESC LIMIT 1) a`,
    );
    return rows.map((r) => ({
      hostName: String(r.hostName),
      orphanTags: Number(r.orphanTags),
      missingSnapshots: Number(r.missingSnapshots),
      missingVolumes: Number(r.missingVolumes),
      orphanFiles: Number(r.orphanFiles),
      damagedImages: Number(r.damagedImages),
    }));
  }

  /**
   * What an inventory of `hostId` is compared with, read in the applier's transaction: the host's volumes and
   * those the inventory names (a file may belong to a row elsewhere), their snapshots, the recovery points of
   * their instances, the templates the inventory names, and what open or recently closed jobs work on. Every
   * query is keyed by the host or by the ids listed, never a scan of a whole table.
   */
  async recordsFor(
    hostId: string,
    listed: { volumeIds: string[]; templateIds: string[] },
    takenAt: Date,
  ): Promise<AuditRecords> {
    const volumeIds = listed.volumeIds.filter((id) => UUID.test(id));
    const templateIds = listed.templateIds.filter((id) => UUID.test(id));
    const volumes: AuditRecords['volumes'] = await this.manager.query(
      `SELECT id, organization_id AS "organizationId", host_id AS "hostId", instance_id AS "instanceId", state,
              created_at AS "createdAt"
       FROM volumes WHERE host_id = $1 OR id = ANY($2::uuid[])`,
      [hostId, volumeIds],
    );
    const ids = volumes.map((v) => v.id);
    const instanceIds = [...new Set(volumes.flatMap((v) => (v.instanceId ? [v.instanceId] : [])))];
    const snapshots: AuditRecords['snapshots'] = await this.manager.query(
      `SELECT id, organization_id AS "organizationId", volume_id AS "volumeId", state, created_at AS "createdAt",
              completed_at AS "completedAt"
       FROM snapshots WHERE volume_id = ANY($1::uuid[])`,
      [ids],
    );
    const instanceSnapshots: AuditRecords['instanceSnapshots'] = await this.manager.query(
      `SELECT id, organization_id AS "organizationId", instance_id AS "instanceId", volume_ids AS "volumeIds", state,
              created_at AS "createdAt", completed_at AS "completedAt"
       FROM instance_snapshots WHERE instance_id = ANY($1::uuid[])`,
      [instanceIds],
    );
    const templates: AuditRecords['templates'] = await this.manager.query(
      `SELECT id, state FROM templates WHERE id = ANY($1::uuid[])`,
      [templateIds],
    );
    // Open jobs through the partial index of open leases; closed ones through idx_jobs_finished.
    const jobs: Array<{ id: string; resourceId: string; payload: unknown }> = await this.manager.query(
      `SELECT id, resource_id AS "resourceId", payload FROM jobs WHERE status IN ($1, $2)
       UNION ALL
       SELECT id, resource_id AS "resourceId", payload FROM jobs WHERE finished_at IS NOT NULL AND finished_at >= $3`,
      [JobStatus.PENDING, JobStatus.RUNNING, takenAt],
    );
    const busy = new Set<string>();
    for (const job of jobs) {
      busy.add(job.id);
      busy.add(job.resourceId);
      collectStrings(job.payload, busy);
    }
    return { volumes, snapshots, instanceSnapshots, templates, busy };
  }
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) collectStrings(item, into);
}
