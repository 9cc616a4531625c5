import DataLoader from 'dataloader';
import { notFound } from '@snapdeck/domain';
import type {
  BackupEntity,
  BackupStorageEntity,
  Database,
  EnvironmentEntity,
  HostEntity,
  InstanceEntity,
  JobEntity,
  OrganizationEntity,
  ReadScope,
  SnapshotEntity,
  SnapshotPolicyEntity,
  VolumeEntity,
} from '@snapdeck/persistence';

type Scoped<T> = (scope: ReadScope, ids: readonly string[]) => Promise<T[]>;

/** A loader of rows by id that answers null for ids the batch did not return (missing or out of scope). */
function byId<T extends { id: string }>(load: (ids: readonly string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = new Map((await load(ids)).map((row) => [row.id, row]));
    return ids.map((id) => rows.get(id) ?? null);
  });
}

/**
 * A row that must exist beside its parent (a recovery point's instance, a volume's environment). The two are
 * read in two statements of one request, so a destroy committed between them leaves the parent without it:
 * the answer is NOT_FOUND, with a code, instead of a crash on null.
 */
export async function loadRequired<T>(loader: DataLoader<string, T | null>, type: string, id: string): Promise<T> {
  const row = await loader.load(id);
  if (!row) throw notFound(type, id);
  return row;
}

/**
 * Request-scoped batch loaders: nested fields (snapshot.volume, volume.host, …) cost one query per type per
 * request level instead of one per row. They read within the caller's scope.
 */
export class Loaders {
  readonly environments: DataLoader<string, EnvironmentEntity | null>;
  readonly instances: DataLoader<string, InstanceEntity | null>;
  readonly volumes: DataLoader<string, VolumeEntity | null>;
  readonly snapshots: DataLoader<string, SnapshotEntity | null>;
  readonly jobs: DataLoader<string, JobEntity | null>;
  readonly hosts: DataLoader<string, HostEntity | null>;
  readonly organizations: DataLoader<string, OrganizationEntity | null>;
  readonly volumesByInstance: DataLoader<string, VolumeEntity[]>;
  readonly snapshotPolicies: DataLoader<string, SnapshotPolicyEntity | null>;
  readonly policiesByVolume: DataLoader<string, SnapshotPolicyEntity[]>;
  readonly backups: DataLoader<string, BackupEntity | null>;
  readonly backupChildren: DataLoader<string, BackupEntity[]>;
  readonly backupStorages: DataLoader<string, BackupStorageEntity | null>;
  /** The instance ids of each backup schedule (the schedule was read in scope already). */
  readonly backupScheduleInstanceIds: DataLoader<string, string[]>;

  constructor(db: Database, scope: ReadScope) {
    const scoped = <T extends { id: string }>(find: Scoped<T>) => byId((ids) => find(scope, ids));
    const repos = db.repos;
    this.environments = scoped((s, ids) => repos.environments.findByIds(s, ids));
    this.instances = scoped((s, ids) => repos.instances.findByIds(s, ids));
    this.volumes = scoped((s, ids) => repos.volumes.findByIds(s, ids));
    this.snapshots = scoped((s, ids) => repos.snapshots.findByIds(s, ids));
    this.jobs = scoped((s, ids) => repos.jobs.findByIds(s, ids));
    // Hosts are infrastructure shared by every tenant; what a tenant sees of them is decided by the model.
    this.hosts = byId((ids) => repos.hosts.findByIds(ids));
    this.organizations = byId((ids) => repos.organizations.findByIds(ids));
    this.volumesByInstance = new DataLoader(async (instanceIds) => {
      const volumes = await repos.volumes.findByInstanceIds(scope, instanceIds);
      return instanceIds.map((id) => volumes.filter((v) => v.instanceId === id));
    });
    this.snapshotPolicies = scoped((s, ids) => repos.snapshotPolicies.findByIds(s, ids));
    this.policiesByVolume = new DataLoader(async (volumeIds) => {
      const policies = await repos.snapshotPolicies.findByVolumeIds(scope, volumeIds);
      return volumeIds.map((id) => policies.filter((p) => p.volumeId === id));
    });
    this.backups = scoped((s, ids) => repos.backups.findByIds(s, ids));
    this.backupChildren = new DataLoader(async (parentIds) => {
      const children = await repos.backups.findChildrenOfMany(scope, parentIds);
      return parentIds.map((id) => children.filter((c) => c.parentId === id));
    });
    // Backup storages are platform infrastructure, like hosts: what a tenant sees of one is its name.
    this.backupStorages = byId((ids) => repos.backupStorages.findByIds(ids));
    this.backupScheduleInstanceIds = new DataLoader(async (scheduleIds) => {
      const found = await repos.backupSchedules.instanceIdsOfMany(scheduleIds);
      return scheduleIds.map((id) => found.get(id) ?? []);
    });
  }
}
