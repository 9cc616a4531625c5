import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Where backups go (issue 13): a folder under secondary storage (`root` secondary, `path` relative to it: the
 * `default` storage is `backups`), or an absolute path every node mounts, registered by a platform administrator.
 * Platform infrastructure, shared by every organization like hosts: a backup's folder inside it is
 * `<organizationId>/<backupId>/`.
 */
@Entity('backup_storages')
export class BackupStorageEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 63, unique: true })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  root!: 'secondary' | 'absolute';

  @Column({ type: 'varchar', length: 1024 })
  path!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
