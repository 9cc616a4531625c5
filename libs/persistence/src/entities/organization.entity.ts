import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('organizations')
export class OrganizationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 63, unique: true })
  name!: string;

  /** Most snapshots the organization may hold at once; null for no limit. */
  @Column({ name: 'snapshot_limit', type: 'integer', nullable: true })
  snapshotLimit!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
