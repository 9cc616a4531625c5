import { Inject, Injectable } from '@nestjs/common';
import { assertAbsoluteStoragePath, conflict } from '@snapdeck/domain';
import {
  Database,
  type BackupEntity,
  type BackupFilter,
  type BackupStorageEntity,
  type Page,
  type PageRequest,
} from '@snapdeck/persistence';
import { readScope, type Principal } from '../auth/principal.js';
import { findWritable } from '../common/access.js';
import { isUniqueViolation } from '../common/database-errors.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { lockWritableInstance } from '../instances/instance-locks.js';
import { JobLauncher } from '../orchestration/job-launcher.service.js';
import { backupRulesOf, beginBackup, type BackupOperation } from './begin-backup.js';
import { beginBackupDelete } from './begin-backup-delete.js';
import type { CreateBackupInput, CreateBackupStorageInput } from './dto/backup.inputs.js';

export type { BackupOperation } from './begin-backup.js';

/**
 * Backups (issue 13): every disk of an instance copied to a backup storage by the instance's agent. While a backup
 * is CREATING its instance's volumes are SNAPSHOTTING, the house's mark of a disk being read out: start, stop,
 * destroy, a revert, a snapshot or another backup of that instance is refused (CONFLICT) until the job ends, and
 * the applier puts them back to READY whatever the outcome (no new state, no new check elsewhere).
 */
@Injectable()
export class BackupsService {
  constructor(
    private readonly db: Database,
    private readonly launcher: JobLauncher,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async create(principal: Principal, input: CreateBackupInput): Promise<BackupOperation> {
    return this.launcher.commitThenLaunch(async (tx) =>
      beginBackup(
        tx,
        principal,
        await lockWritableInstance(tx, principal, input.instanceId),
        input,
        backupRulesOf(this.config),
      ),
    );
  }

  /** See beginBackupDelete. */
  async delete(principal: Principal, backupId: string): Promise<BackupOperation> {
    return this.launcher.commitThenLaunch(async (tx) =>
      beginBackupDelete(
        tx,
        principal,
        await findWritable(principal, 'Backup', backupId, (s) => tx.backups.findById(s, backupId)),
      ),
    );
  }

  list(principal: Principal, filter: BackupFilter, page: PageRequest): Promise<Page<BackupEntity>> {
    return this.db.repos.backups.list(readScope(principal), filter, page);
  }

  findById(principal: Principal, id: string): Promise<BackupEntity | null> {
    return this.db.repos.backups.findById(readScope(principal), id);
  }

  listStorages(page: PageRequest): Promise<Page<BackupStorageEntity>> {
    return this.db.repos.backupStorages.list(page);
  }

  /** A path every node mounts; the agents probe it when a job first writes there. */
  async createStorage(input: CreateBackupStorageInput): Promise<BackupStorageEntity> {
    const path = assertAbsoluteStoragePath(input.path);
    try {
      return await this.db.repos.backupStorages.create({ name: input.name, root: 'absolute', path });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A backup storage named ${input.name} exists already`);
      throw error;
    }
  }
}
