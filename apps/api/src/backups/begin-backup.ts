import { JobName } from '@snapdeck/contracts';
import {
  autoBackupName,
  BACKUP_PROBE_TIMEOUT_SECONDS,
  BackupCompression,
  BackupMode,
  backupReservationGiB,
  BackupState,
  conflict,
  diskOrder,
  InstanceState,
  notFound,
  parseEmailAddresses,
  uniqueName,
  VolumeState,
} from '@snapdeck/domain';
import {
  DEFAULT_BACKUP_STORAGE_NAME,
  newId,
  type BackupConfiguration,
  type BackupEntity,
  type BackupStorageEntity,
  type HostEntity,
  type InstanceEntity,
  type JobEntity,
  type Repositories,
  type VolumeEntity,
} from '@snapdeck/persistence';
import { enforceLimits } from '../common/limits.js';
import type { ApiConfig } from '../config.js';
import { assertDisksReady, assertInstanceIn } from '../instances/instance-disks.js';
import { hostOfInstance } from '../instances/instance-locks.js';
import { openJob, type JobResource } from '../orchestration/open-job.js';
import { backupLocation } from './backup-locations.js';

export interface BackupOperation {
  backup: BackupEntity;
  job: JobEntity;
}

export interface BackupRequest {
  mode?: BackupMode | null;
  compression?: BackupCompression | null;
  storageId?: string | null;
  notify?: readonly string[] | null;
  incremental?: boolean | null;
  /** The backup schedule whose occurrence this is (only that schedule's prune rules remove it). */
  scheduleId?: string | null;
}

/** The operator's settings a backup follows. */
export interface BackupRules {
  /** A full backup once a chain holds this many (BACKUP_FULL_EVERY). */
  fullEvery: number;
  /** STOP mode forces the guest off after this (INSTANCE_STOP_TIMEOUT_SECONDS, as stopInstance). */
  stopTimeoutSeconds: number;
}

/** The rules from the api's configuration: one place for createBackup and the backup schedules. */
export function backupRulesOf(
  config: Pick<ApiConfig, 'BACKUP_FULL_EVERY' | 'INSTANCE_STOP_TIMEOUT_SECONDS'>,
): BackupRules {
  return { fullEvery: config.BACKUP_FULL_EVERY, stopTimeoutSeconds: config.INSTANCE_STOP_TIMEOUT_SECONDS };
}

/**
 * createBackup's rules in the caller's transaction, on an instance it has locked for update: a RUNNING or STOPPED
 * instance with every disk READY and no backup being written (CONFLICT), the storage, the limits, the job (send
 * it once the transaction commits). `by` asks for it: a user, or the scheduler (userId null, actor
 * `system:scheduler`).
 */
export async function beginBackup(
  tx: Repositories,
  by: { userId: string | null },
  instance: InstanceEntity,
  input: BackupRequest,
  rules: BackupRules,
): Promise<{ operation: BackupOperation; hostName: string }> {
  const notify = parseEmailAddresses([...(input.notify ?? [])], 'notify');
  const mode = input.mode ?? BackupMode.SNAPSHOT;
  const compression = input.compression ?? BackupCompression.ZSTD;
  assertInstanceIn(
    instance,
    [InstanceState.RUNNING, InstanceState.STOPPED],
    'a backup needs a RUNNING or STOPPED instance',
  );
  const creating = await tx.backups.findCreatingOfInstance(instance.id);
  if (creating) {
    throw conflict(`Backup ${creating.name} of instance ${instance.name} is being created: wait for it to finish`);
  }
  const storage = await storageFor(tx, input.storageId);
  const host = await hostOfInstance(tx, instance);
  const volumes = diskOrder(await tx.volumes.findByInstance(instance.id));
  assertDisksReady(volumes, 'a backup');
  const volumeIds = volumes.map((v) => v.id);
  const moved = await tx.volumes.transitionMany(volumeIds, [VolumeState.READY], VolumeState.SNAPSHOTTING);
  if (moved !== volumeIds.length) throw conflict('A volume of this instance became busy: try again');
  const { parent, fullReason } = input.incremental
    ? await parentFor(tx, instance, storage, volumes, rules)
    : { parent: null, fullReason: null };
  const backupId = newId();
  const location = backupLocation({ id: backupId, organizationId: instance.organizationId }, storage);
  const resource: JobResource = ['Backup', { id: backupId, organizationId: instance.organizationId }];
  const job = await openJob(tx, by, host, resource, JobName.CREATE_BACKUP, {
    ...location,
    organizationId: instance.organizationId,
    instanceId: instance.id,
    instanceName: instance.name,
    mode,
    compression,
    quiesce: false,
    volumes: volumes.map((v) => ({ volumeId: v.id, name: v.name, type: v.type, sizeGiB: v.sizeGiB })),
    ...(parent ? { parent: backupLocation(parent, storage) } : {}),
    probeTimeoutSeconds: BACKUP_PROBE_TIMEOUT_SECONDS,
    stopTimeoutSeconds: rules.stopTimeoutSeconds,
    instanceRunning: instance.state === InstanceState.RUNNING,
  });
  // Last before the insert it guards. The size is not known until the agent has written it: the backup
  // reserves the virtual size of its disks (the most a full copy occupies) until then; see backupReservationGiB.
  await enforceLimits(
    tx,
    instance.organizationId,
    { backups: 1, backupGiB: backupReservationGiB(volumes) },
    { actor: by.userId ?? 'system:scheduler', instanceId: instance.id },
  );
  const backup = await tx.backups.create({
    id: backupId,
    organizationId: instance.organizationId,
    environmentId: instance.environmentId,
    instanceId: instance.id,
    instanceName: instance.name,
    hostId: host.id,
    storageId: storage.id,
    name: await autoName(tx, instance),
    mode,
    compression,
    incremental: parent !== null,
    parentId: parent?.id ?? null,
    chainLength: parent ? parent.chainLength + 1 : 1,
    fullReason,
    configuration: configurationOf(instance, host, volumes),
    notify,
    jobId: job.id,
    scheduleId: input.scheduleId ?? null,
  });
  return { operation: { backup, job }, hostName: host.name };
}

/** The storage asked for, or the one named `default`; NOT_FOUND naming it otherwise. */
export async function storageFor(tx: Repositories, storageId: string | null | undefined): Promise<BackupStorageEntity> {
  const storage = storageId
    ? await tx.backupStorages.findById(storageId)
    : await tx.backupStorages.findByName(DEFAULT_BACKUP_STORAGE_NAME);
  if (!storage) throw notFound('BackupStorage', storageId ?? DEFAULT_BACKUP_STORAGE_NAME);
  return storage;
}

/**
 * An incremental's parent: the instance's newest READY backup on the same storage, if it holds the same disks
 * at the same sizes (a disk added or resized since breaks the chain) and its chain is shorter than the rule's
 * `fullEvery`. Otherwise the backup is a full one, and `fullReason` says why. The parent is locked shared until
 * commit, so a delete of it waits and then sees its new child.
 */
async function parentFor(
  tx: Repositories,
  instance: InstanceEntity,
  storage: BackupStorageEntity,
  volumes: readonly VolumeEntity[],
  rule: BackupRules,
): Promise<{ parent: BackupEntity | null; fullReason: string | null }> {
  const latest = await tx.backups.findLatestReady(instance.id, storage.id);
  const parent = latest ? await tx.backups.lock(latest.id, 'share') : null;
  if (parent?.state !== BackupState.READY) {
    return { parent: null, fullReason: `instance ${instance.name} has no READY backup on storage ${storage.name}` };
  }
  const sameDisks =
    parent.configuration.volumes.length === volumes.length &&
    volumes.every((v) => parent.configuration.volumes.some((p) => p.volumeId === v.id && p.sizeGiB === v.sizeGiB));
  if (!sameDisks) {
    return { parent: null, fullReason: `the disks changed (added, removed or resized) since backup ${parent.name}` };
  }
  const rewritten = volumes.find((v) => v.contentsReplacedAt && v.contentsReplacedAt >= parent.createdAt);
  if (rewritten) {
    return {
      parent: null,
      fullReason: `volume ${rewritten.name} was reverted or restored since backup ${parent.name}`,
    };
  }
  if (parent.chainLength >= rule.fullEvery) {
    return {
      parent: null,
      fullReason: `backup ${parent.name} ends a chain of ${parent.chainLength} (BACKUP_FULL_EVERY=${rule.fullEvery})`,
    };
  }
  return { parent, fullReason: null };
}

/** `<instanceName>_BK_<yyyyMMddHHmmss>`; `-2`, `-3`… when one instance gets two within a second. */
async function autoName(tx: Repositories, instance: InstanceEntity): Promise<string> {
  const base = autoBackupName(instance.name, new Date());
  return uniqueName(base, await tx.backups.namesOnInstanceStartingWith(instance.id, base));
}

/** The instance as the backup found it: what a restore into a new instance rebuilds. */
function configurationOf(
  instance: InstanceEntity,
  host: HostEntity,
  volumes: readonly VolumeEntity[],
): BackupConfiguration {
  return {
    instance: {
      id: instance.id,
      name: instance.name,
      state: instance.state,
      cpuCount: instance.cpuCount,
      memoryMiB: instance.memoryMiB,
    },
    host: { id: host.id, name: host.name },
    volumes: volumes.map((v) => ({ volumeId: v.id, name: v.name, type: v.type, sizeGiB: v.sizeGiB })),
  };
}
