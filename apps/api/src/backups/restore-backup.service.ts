import { Injectable } from '@nestjs/common';
import type { BackupLocation } from '@snapdeck/contracts';
import {
  BACKUP_PROBE_TIMEOUT_SECONDS,
  BackupState,
  badInput,
  conflict,
  DEFAULT_INSTANCE_SIZE,
  diskOrder,
  InstanceState,
  notFound,
  preconditionFailed,
  utcStamp,
} from '@snapdeck/domain';
import {
  Database,
  type BackupEntity,
  type InstanceEntity,
  type JobEntity,
  type Repositories,
} from '@snapdeck/persistence';
import type { Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { assertDisksReady, assertInstanceIn } from '../instances/instance-disks.js';
import { lockWritableInstance } from '../instances/instance-locks.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { ProvisioningService, type PlannedVolume } from '../provisioning/provisioning.service.js';
import { beginSnapshot } from '../snapshots/begin-snapshot.js';
import { restoreChain } from './backup-locations.js';
import type { RestoreBackupInput } from './dto/backup.inputs.js';

export interface RestoreOperation {
  instance: InstanceEntity;
  job: JobEntity;
}

/**
 * restoreBackup: into a new instance (environmentId + name; the non-destructive default, quota-checked and placed
 * like createInstance) or over the backup's own STOPPED instance (instanceId). Over it, a safety snapshot of every
 * disk is taken first, as ordinary snapshots: the last of them to complete starts the RESTORE_BACKUP job
 * (continuePendingRestore), and they stay whatever the restore does. The answer's job is then the first safety
 * snapshot's; the restore job follows.
 */
@Injectable()
export class RestoreBackupService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    private readonly provisioning: ProvisioningService,
  ) {}

  async restore(principal: Principal, input: RestoreBackupInput): Promise<RestoreOperation> {
    const overInstance = input.instanceId != null;
    const intoNew = input.environmentId != null || input.name != null;
    if (overInstance === intoNew) {
      throw badInput(
        'Give either instanceId (over the backup’s own stopped instance) or environmentId and name (a new instance)',
        'instanceId',
      );
    }
    if (intoNew && (input.environmentId == null || input.name == null)) {
      throw badInput(
        'A restore into a new instance needs both environmentId and name',
        input.name ? 'environmentId' : 'name',
      );
    }
    if (overInstance && input.hostId != null) {
      throw badInput('hostId is for a new instance: a restore over an instance writes on its own host', 'hostId');
    }
    return overInstance
      ? this.overInstance(principal, input.backupId, input.instanceId!)
      : this.intoNewInstance(principal, input);
  }

  private async intoNewInstance(principal: Principal, input: RestoreBackupInput): Promise<RestoreOperation> {
    const environment = await findWritable(principal, 'Environment', input.environmentId!, (scope) =>
      this.db.repos.environments.findById(scope, input.environmentId!),
    );
    try {
      return await this.launcher.commitThenLaunch(async (tx) => {
        const { backup, chain } = await this.readyBackup(tx, principal, input.backupId);
        // A backup is restored within its own organization (a platform administrator's environment elsewhere
        // is not one this backup can go to).
        if (environment.organizationId !== backup.organizationId) throw notFound('Environment', environment.id);
        const volumes: PlannedVolume[] = diskOrder(
          backup.configuration.volumes.map((v) => ({ ...v, id: v.volumeId })),
        ).map((v) => ({
          name: v.name,
          type: v.type,
          sizeGiB: v.sizeGiB,
          source: { kind: 'backup', sourceVolumeId: v.volumeId },
        }));
        const provisioned = await this.provisioning.provision(tx, principal, {
          organizationId: backup.organizationId,
          environmentId: environment.id,
          host: input.hostId ? { kind: 'named', hostId: input.hostId } : { kind: 'any' },
          instance: {
            create: input.name!,
            size: {
              cpuCount: backup.configuration.instance.cpuCount ?? DEFAULT_INSTANCE_SIZE.cpuCount,
              memoryMiB: backup.configuration.instance.memoryMiB ?? DEFAULT_INSTANCE_SIZE.memoryMiB,
            },
          },
          volumes,
          restore: { chain, probeTimeoutSeconds: BACKUP_PROBE_TIMEOUT_SECONDS },
        });
        return { operation: { instance: provisioned.instance!, job: provisioned.job }, hostName: provisioned.hostName };
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict(`An instance named ${input.name} exists in this environment already`);
      throw error;
    }
  }

  private async overInstance(principal: Principal, backupId: string, instanceId: string): Promise<RestoreOperation> {
    const launches: Array<{ job: JobEntity; hostName: string }> = [];
    const operation = await this.launcher.commitThenLaunch(async (tx) => {
      // The instance first, then the backup: the order every request that takes both keeps.
      const instance = await lockWritableInstance(tx, principal, instanceId);
      const { backup } = await this.readyBackup(tx, principal, backupId);
      if (backup.instanceId === null) {
        throw preconditionFailed(
          `Backup ${backup.name} is of instance ${backup.instanceName}, destroyed since: restore it into a new instance (environmentId and name)`,
        );
      }
      if (backup.instanceId !== instance.id) {
        throw preconditionFailed(
          `Backup ${backup.name} is of instance ${backup.instanceName}: a restore over an instance writes over the backup's own instance only`,
        );
      }
      assertInstanceIn(instance, [InstanceState.STOPPED], 'a restore over it needs it STOPPED; stop it first');
      const volumes = diskOrder(await tx.volumes.findByInstance(instance.id));
      const held = new Set(backup.configuration.volumes.map((v) => v.volumeId));
      const differ =
        volumes.length !== held.size ||
        volumes.some(
          (v) => !held.has(v.id) || backup.configuration.volumes.find((b) => b.volumeId === v.id)!.sizeGiB > v.sizeGiB,
        );
      if (differ) {
        throw preconditionFailed(
          `Instance ${instance.name} no longer has the disks backup ${backup.name} holds: restore it into a new instance`,
        );
      }
      assertDisksReady(volumes, 'a restore');
      const stamp = utcStamp(new Date());
      const started = [];
      for (const volume of volumes) {
        started.push(
          await beginSnapshot(tx, principal, volume, {
            name: `${instance.name}_${volume.name}_pre-restore_${stamp}`,
            description: `Safety snapshot taken before restoring backup ${backup.name} over instance ${instance.name}`,
            pendingRestoreBackupId: backup.id,
          }),
        );
      }
      launches.push(...started.slice(1).map((s) => ({ job: s.job, hostName: s.hostName })));
      return { operation: { instance, job: started[0].job }, hostName: started[0].hostName };
    });
    // Committed rows: a send that fails here is the reconciler's to make.
    for (const next of launches) await this.launcher.launch(next.job, next.hostName).catch(() => undefined);
    return operation;
  }

  /** The caller's READY backup, locked shared until commit (a delete waits), and the chain a restore reads. */
  private async readyBackup(
    tx: Repositories,
    principal: Principal,
    backupId: string,
  ): Promise<{ backup: BackupEntity; chain: BackupLocation[] }> {
    const found = await findWritable(principal, 'Backup', backupId, (s) => tx.backups.findById(s, backupId));
    const backup = (await tx.backups.lock(found.id, 'share'))!;
    if (backup.state !== BackupState.READY) {
      const message = `Backup ${backup.name} is ${backup.state}, not READY`;
      throw backup.state === BackupState.ERROR ? preconditionFailed(message) : conflict(message);
    }
    return { backup, chain: await restoreChain(tx, backup) };
  }
}
