import { HostState } from '@snapdeck/domain';
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
