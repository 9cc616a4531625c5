import type { EntityManager } from 'typeorm';
import { BackupStorageEntity } from '../entities/backup-storage.entity.js';
import { newId } from '../ids.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';

export interface NewBackupStorage {
  name: string;
  root: 'secondary' | 'absolute';
  path: string;
}

/** The storage the first migration registers: `$SECONDARY_STORAGE_DIR/backups`. */
export const DEFAULT_BACKUP_STORAGE_NAME = 'default';

/**
 * Backup storages are platform infrastructure shared by every organization (like hosts): no tenant filter. Which
 * organization's backups lie in one is the backups' business (BackupRepository reads them scoped).
 */
export class BackupStorageRepository {
  constructor(private readonly manager: EntityManager) {}

  create(values: NewBackupStorage): Promise<BackupStorageEntity> {
    return this.manager.save(this.manager.create(BackupStorageEntity, { id: newId(), ...values }));
  }

  findById(id: string): Promise<BackupStorageEntity | null> {
    return this.manager.findOneBy(BackupStorageEntity, { id });
  }

  findByName(name: string): Promise<BackupStorageEntity | null> {
    return this.manager.findOneBy(BackupStorageEntity, { name });
  }

  async findByIds(ids: readonly string[]): Promise<BackupStorageEntity[]> {
    if (ids.length === 0) return [];
    return this.manager.createQueryBuilder(BackupStorageEntity, 'bs').where('bs.id IN (:...ids)', { ids }).getMany();
  }

  list(page: PageRequest): Promise<Page<BackupStorageEntity>> {
    return paginate(this.manager.createQueryBuilder(BackupStorageEntity, 'bs'), 'bs', page);
  }
}
