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
  /** The host's primary storage (statfs of AGENT_STORAGE_DIR); null when the agent did not report it. */
  storage?: { totalBytes: number; freeBytes: number } | null;
}

/** A host placement may choose, with what it holds now. */
export interface PlacementCandidate {
  host: HostEntity;
  /** Virtual GiB of every volume row on the host. */
  provisionedGiB: number;
}

/** First key of the advisory locks that serialize placement on one host (ASCII "HOST"). */
const HOST_LOCK_NAMESPACE = 0x484f5354;

/** Hosts are platform infrastructure, not tenant data: only platform staff list them. */
export class HostRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Registers a host on its first heartbeat and marks it UP on every later one: the name is the identity,
   * so an agent that restarts finds its own host record again.
   */
  async recordHeartbeat(beat: Heartbeat): Promise<HostEntity> {
    const rows: HostEntity[] = await this.manager.query(
      `INSERT INTO hosts (id, name, state, driver, agent_version, last_heartbeat_at, storage_total_bytes,
                          storage_free_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (name) DO UPDATE
         SET state = EXCLUDED.state, driver = EXCLUDED.driver, agent_version = EXCLUDED.agent_version,
             last_heartbeat_at = GREATEST(hosts.last_heartbeat_at, EXCLUDED.last_heartbeat_at),
             storage_total_bytes = EXCLUDED.storage_total_bytes, storage_free_bytes = EXCLUDED.storage_free_bytes
       RETURNING id`,
      [
        newId(),
        beat.hostName,
        HostState.UP,
        beat.driver,
        beat.agentVersion,
        beat.at,
        beat.storage?.totalBytes ?? null,
        beat.storage?.freeBytes ?? null,
      ],
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

  /**
   * Every UP host, least loaded first (fewest live volumes, then name), with the virtual GiB provisioned on it.
   * Read without locks: placement locks the one it picks (lockForPlacement) and counts again.
   */
  async placementCandidates(): Promise<PlacementCandidate[]> {
    const rows: Array<{ id: string; provisioned: string }> = await this.manager.query(
      `SELECT h.id, COALESCE(SUM(v.size_gib), 0) AS provisioned FROM hosts h
       LEFT JOIN volumes v ON v.host_id = h.id
       WHERE h.state = $1
       GROUP BY h.id, h.name
       ORDER BY COUNT(v.id) FILTER (WHERE v.state <> $2) ASC, h.name ASC`,
      [HostState.UP, VolumeState.DESTROYING],
    );
    const hosts = new Map((await this.findByIds(rows.map((r) => r.id))).map((h) => [h.id, h]));
    return rows.flatMap((r) => {
      const host = hosts.get(r.id);
      return host ? [{ host, provisionedGiB: Number(r.provisioned) }] : [];
    });
  }

  /**
   * Serializes placement on one host until the caller's transaction ends (an advisory lock, so heartbeats,
   * which update the row, never wait for it). After it, provisionedGiB counts every volume committed before.
   */
  async lockForPlacement(hostId: string): Promise<void> {
    await this.manager.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [HOST_LOCK_NAMESPACE, hostId]);
  }

  /** lockForPlacement without waiting: false if another transaction holds it. */
  async tryLockForPlacement(hostId: string): Promise<boolean> {
    const rows: Array<{ ok: boolean }> = await this.manager.query(
      `SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok`,
      [HOST_LOCK_NAMESPACE, hostId],
    );
    return rows[0].ok;
  }

  /** Virtual GiB of every volume row on the host, whatever its state: a file exists until its row goes. */
  async provisionedGiB(hostId: string): Promise<number> {
    const rows: Array<{ n: string }> = await this.manager.query(
      `SELECT COALESCE(SUM(size_gib), 0) AS n FROM volumes WHERE host_id = $1`,
      [hostId],
    );
    return Number(rows[0].n);
  }
}
