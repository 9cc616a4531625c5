import { NO_LIMITS, type LimitResource, type OrganizationLimits, type OrganizationUsage } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { OrganizationEntity } from '../entities/organization.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';
import { returnedRows } from '../sql.js';

/** The entity's column for each limit of the contract. */
const LIMIT_COLUMNS = {
  snapshots: 'limitSnapshots',
  snapshotGiB: 'limitSnapshotGiB',
  instances: 'limitInstances',
  volumeGiB: 'limitVolumeGiB',
  backups: 'limitBackups',
  backupGiB: 'limitBackupGiB',
} as const satisfies Record<LimitResource, keyof OrganizationEntity>;

/** First key of the advisory locks that serialize one organization's limit checks (ASCII "QUOT"). */
const LIMIT_LOCK_NAMESPACE = 0x51554f54;

/**
 * How each resource is counted from the rows, for one organization ($1). Every row counts until it is removed:
 * a volume snapshot or an instance snapshot IN_PROGRESS, ERROR or DESTROYING still holds (or may hold) space on disk, as does
 * a volume CREATING, ERROR or DESTROYING; an instance counts in every state until destroyed. An instance snapshot
 * counts one snapshot per disk it holds, each with its disk's virtual size: on disk it is one internal qcow2
 * snapshot in every one of those volumes, just as many volume snapshots would be. A backup counts until its row
 * is removed (its folder deleted).
 */
const USAGE_SQL: Record<LimitResource, string> = {
  snapshots: `SELECT (SELECT COUNT(*) FROM snapshots WHERE organization_id = $1)
      + (SELECT COALESCE(SUM(cardinality(volume_ids)), 0) FROM instance_snapshots WHERE organization_id = $1) AS n`,
  snapshotGiB: `SELECT (SELECT COALESCE(SUM(v.size_gib), 0) FROM snapshots s JOIN volumes v ON v.id = s.volume_id
        WHERE s.organization_id = $1)
      + (SELECT COALESCE(SUM(v.size_gib), 0) FROM instance_snapshots p
        CROSS JOIN LATERAL unnest(p.volume_ids) AS disk(id) JOIN volumes v ON v.id = disk.id
        WHERE p.organization_id = $1) AS n`,
  instances: `SELECT COUNT(*) AS n FROM instances WHERE organization_id = $1`,
  volumeGiB: `SELECT COALESCE(SUM(size_gib), 0) AS n FROM volumes WHERE organization_id = $1`,
  backups: `SELECT COUNT(*) AS n FROM backups WHERE organization_id = $1`,
  // Whole GiB, rounded up: a READY backup (or one being deleted) holds the bytes it wrote; one being written
  // holds its reservation, the virtual size of its disks (backupReservationGiB); one that never completed nothing.
  backupGiB: `SELECT CEIL(COALESCE(SUM(CASE
        WHEN b.size_bytes IS NOT NULL THEN b.size_bytes::numeric
        WHEN b.state = 'CREATING' THEN 1073741824 *
          (SELECT COALESCE(SUM((v->>'sizeGiB')::numeric), 0) FROM jsonb_array_elements(b.configuration->'volumes') v)
        ELSE 0
      END), 0) / 1073741824) AS n FROM backups b WHERE b.organization_id = $1`,
};

/** Organizations are the tenants themselves: only platform staff list them. */
export class OrganizationRepository {
  constructor(private readonly manager: EntityManager) {}

  async create(name: string, limits?: Readonly<Partial<OrganizationLimits>>): Promise<OrganizationEntity> {
    const organization = this.manager.create(OrganizationEntity, {
      id: newId(),
      name,
      ...limitColumns({ ...NO_LIMITS, ...limits }),
    });
    return this.manager.save(organization);
  }

  findById(id: string): Promise<OrganizationEntity | null> {
    return this.manager.findOneBy(OrganizationEntity, { id });
  }

  findByName(name: string): Promise<OrganizationEntity | null> {
    return this.manager.findOneBy(OrganizationEntity, { name });
  }

  list(page: PageRequest): Promise<Page<OrganizationEntity>> {
    return paginate(this.manager.createQueryBuilder(OrganizationEntity, 'o'), 'o', page);
  }

  async findByIds(ids: readonly string[]): Promise<OrganizationEntity[]> {
    if (ids.length === 0) return [];
    return this.manager.createQueryBuilder(OrganizationEntity, 'o').where('o.id IN (:...ids)', { ids }).getMany();
  }

  /** Changes the limits named in `changes` (null removes one) and keeps the others; false if no such row. */
  /** The notification settings; a field left undefined keeps its value. False when there is no such organization. */
  async setNotificationSettings(id: string, changes: { emails?: string[]; events?: string[] }): Promise<boolean> {
    const columns: Partial<Pick<OrganizationEntity, 'notificationEmails' | 'notificationEvents'>> = {};
    if (changes.emails) columns.notificationEmails = changes.emails;
    if (changes.events) columns.notificationEvents = changes.events;
    if (Object.keys(columns).length === 0) return (await this.findById(id)) !== null;
    const result = await this.manager.update(OrganizationEntity, { id }, columns);
    return (result.affected ?? 0) > 0;
  }

  async setLimits(id: string, changes: Readonly<Partial<OrganizationLimits>>): Promise<boolean> {
    const columns = limitColumns(changes);
    if (Object.keys(columns).length === 0) return (await this.findById(id)) !== null;
    const result = await this.manager.update(OrganizationEntity, { id }, columns);
    return (result.affected ?? 0) > 0;
  }

  /**
   * Serializes, until the caller's transaction ends, every check of the given limits of one organization: one
   * transaction-scoped advisory lock per (organization, resource), taken in the contract's field order so two
   * requests never wait on each other crosswise. Resources without a limit are not passed, so they lock nothing.
   * Taken after every row lock of the request, and followed only by counts and inserts.
   */
  async lockLimits(organizationId: string, resources: readonly LimitResource[]): Promise<void> {
    for (const resource of Object.keys(LIMIT_COLUMNS) as LimitResource[]) {
      if (!resources.includes(resource)) continue;
      await this.manager.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [
        LIMIT_LOCK_NAMESPACE,
        `${organizationId}:${resource}`,
      ]);
    }
  }

  /**
   * What the organization holds now, counted from the rows (of the given resources only, the others 0). Under
   * lockLimits in READ COMMITTED, each count sees every insert committed before the lock was granted.
   */
  async usage(
    organizationId: string,
    resources: readonly LimitResource[] = Object.keys(LIMIT_COLUMNS) as LimitResource[],
  ): Promise<OrganizationUsage> {
    const usage: OrganizationUsage = {
      snapshots: 0,
      snapshotGiB: 0,
      instances: 0,
      volumeGiB: 0,
      backups: 0,
      backupGiB: 0,
    };
    for (const resource of resources) {
      const rows = returnedRows<{ n: string | number }>(
        await this.manager.query(USAGE_SQL[resource], [organizationId]),
      );
      usage[resource] = Number(rows[0].n);
    }
    return usage;
  }
}

export function organizationLimits(row: OrganizationEntity): OrganizationLimits {
  return Object.fromEntries(
    (Object.entries(LIMIT_COLUMNS) as Array<[LimitResource, keyof OrganizationEntity]>).map(([resource, column]) => [
      resource,
      row[column] as number | null,
    ]),
  ) as OrganizationLimits;
}

function limitColumns(limits: Readonly<Partial<OrganizationLimits>>): Partial<OrganizationEntity> {
  const columns: Partial<Record<keyof OrganizationEntity, number | null>> = {};
  for (const [resource, column] of Object.entries(LIMIT_COLUMNS) as Array<[LimitResource, keyof OrganizationEntity]>) {
    if (limits[resource] !== undefined) columns[column] = limits[resource];
  }
  return columns as Partial<OrganizationEntity>;
}
