import { HostState, VolumeState } from '@snapdeck/domain';
import type { EntityManager } from 'typeorm';
import { HostEntity } from '../entities/host.entity.js';
import { newId } from '../ids.js';
import { returnedRows } from '../sql.js';
import { paginate, type Page, type PageRequest } from '../pagination.js';

export interface Heartbeat {
  hostName: string;
  driver: string;
  agentVersion: string;
  at: Date;
}

/** Hosts are platform infrastructure, not tenant data: only platform staff list them. */
export class HostRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Registers a host on its first heartbeat and marks it UP on every later one: the name is the identity,
   * so an agent that restarts finds its own host record again.
   */
  async recordHeartbeat(beat: Heartbeat): Promise<HostEntity> {
    const rows: HostEntity[] = await this.manager.query(
      `INSERT INTO hosts (id, name, state, driver, agent_version, last_heartbeat_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (name) DO UPDATE
         SET state = EXCLUDED.state, driver = EXCLUDED.driver, agent_version = EXCLUDED.agent_version,
             last_heartbeat_at = GREATEST(hosts.last_heartbeat_at, EXCLUDED.last_heartbeat_at)
       RETURNING id`,
      [newId(), beat.hostName, HostState.UP, beat.driver, beat.agentVersion, beat.at],
    );
    const host = await this.findById(rows[0].id);
    return host!;
  }

  /** Hosts whose last heartbeat is older than the cutoff go DOWN; returns those that changed. */
  async markStaleHostsDown(cutoff: Date): Promise<HostEntity[]> {
    const result: unknown = await this.manager.query(
      `UPDATE hosts SET state = $1 WHERE state = $2 AND last_heartbeat_at < $3 RETURNING id`,
      [HostState.DOWN, HostState.UP, cutoff],
    );
    return this.findByIds(returnedRows<{ id: string }>(result).map((r) => r.id));
  }

  findById(id: string): Promise<HostEntity | null> {
    return this.manager.findOneBy(HostEntity, { id });
  }

  findByName(name: string): Promise<HostEntity | null> {
    return this.manager.findOneBy(HostEntity, { name });
  }

  async findByIds(ids: readonly string[]): Promise<HostEntity[]> {
    if (ids.length === 0) return [];
    return this.manager.createQueryBuilder(HostEntity, 'h').where('h.id IN (:...ids)', { ids }).getMany();
  }

  list(page: PageRequest): Promise<Page<HostEntity>> {
    return paginate(this.manager.createQueryBuilder(HostEntity, 'h'), 'h', page);
  }

  /** How many hosts are in each state (states with none are absent): one GROUP BY for the metrics scrape. */
  async countByState(): Promise<Map<HostState, number>> {
    const rows: Array<{ state: HostState; count: string }> = await this.manager.query(
      `SELECT state, COUNT(*) AS count FROM hosts GROUP BY state`,
    );
    return new Map(rows.map((r) => [r.state, Number(r.count)]));
  }

  /** The UP host holding the fewest live volumes: where a new instance goes when the caller names none. */
  async findLeastLoadedUpHost(): Promise<HostEntity | null> {
    const rows: Array<{ id: string }> = await this.manager.query(
      `SELECT h.id FROM hosts h
       LEFT JOIN volumes v ON v.host_id = h.id AND v.state <> $2
       WHERE h.state = $1
       GROUP BY h.id, h.name
       ORDER BY COUNT(v.id) ASC, h.name ASC
       LIMIT 1`,
      [HostState.UP, VolumeState.DESTROYING],
    );
    return rows[0] ? this.findById(rows[0].id) : null;
  }
}
