import { HostState } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** bigint columns come back from pg as strings; byte counts stay far below 2^53. */
const BIGINT = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** A KVM node, registered by its agent's first heartbeat and found again by name after a restart. */
@Entity('hosts')
export class HostEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 63, unique: true })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: HostState;

  @Column({ type: 'varchar', length: 32 })
  driver!: string;

  @Column({ name: 'agent_version', type: 'varchar', length: 32, nullable: true })
  agentVersion!: string | null;

  @Column({ name: 'last_heartbeat_at', type: 'timestamptz' })
  lastHeartbeatAt!: Date;

  /**
   * The host's primary storage (a statfs of AGENT_STORAGE_DIR) as its last heartbeat reported it; null until an
   * agent reports it. Placement counts the virtual size of the volumes on the host against the total.
   */
  @Column({ name: 'storage_total_bytes', type: 'bigint', nullable: true, transformer: BIGINT })
  storageTotalBytes!: number | null;

  @Column({ name: 'storage_free_bytes', type: 'bigint', nullable: true, transformer: BIGINT })
  storageFreeBytes!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
