import { jobMachine, JobStatus } from '@snapdeck/domain';
import type { JobName, JobPayloads } from '@snapdeck/contracts';
import type { EntityManager } from 'typeorm';
import { JobEntity } from '../entities/job.entity.js';
import { newId } from '../ids.js';
import { applyScope, type ReadScope } from '../scope.js';
import { returnedRows } from '../sql.js';

export interface NewJob<N extends JobName = JobName> {
  organizationId: string | null;
  type: N;
  hostId: string;
  resourceType: string;
  resourceId: string;
  payload: JobPayloads[N];
  createdByUserId: string | null;
}

const OPEN: readonly JobStatus[] = [JobStatus.PENDING, JobStatus.RUNNING];

/**
 * The statuses a delivery may start from: a RUNNING job goes back to PENDING (jobMachine), and a PENDING one stays
 * PENDING under a new attempt (a lost or never-sent delivery sent again: a new attempt, not a move of the table).
 */
const REDELIVERABLE: readonly JobStatus[] = [JobStatus.PENDING, ...jobMachine.sourcesOf(JobStatus.PENDING)];

export class JobRepository {
  constructor(private readonly manager: EntityManager) {}

  async create<N extends JobName>(values: NewJob<N>): Promise<JobEntity> {
    const job = this.manager.create(JobEntity, {
      id: newId(),
      ...values,
      status: JobStatus.PENDING,
      attempt: 0,
      result: null,
      error: null,
      leaseExpiresAt: null,
      sentAt: null,
      startedAt: null,
      finishedAt: null,
    });
    return this.manager.save(job);
  }

  findById(scope: ReadScope, id: string): Promise<JobEntity | null> {
    return applyScope(this.manager.createQueryBuilder(JobEntity, 'j'), 'j', scope)
      .andWhere('j.id = :id', { id })
      .getOne();
  }

  findByIds(scope: ReadScope, ids: readonly string[]): Promise<JobEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return applyScope(this.manager.createQueryBuilder(JobEntity, 'j'), 'j', scope)
      .andWhere('j.id IN (:...ids)', { ids })
      .getMany();
  }

  /** Internal: the orchestration reads a job by id when an agent reports on it. */
  findForOrchestration(id: string): Promise<JobEntity | null> {
    return this.manager.findOneBy(JobEntity, { id });
  }

  /**
   * Claims the next delivery of an open job: bumps the attempt, marks it not sent yet and starts a (short) claim
   * lease. Returns the new attempt, or null when the job was finished or claimed meanwhile (so it must not be
   * sent again). markSent starts the real lease once the send succeeded.
   */
  async beginDelivery(id: string, leaseExpiresAt: Date, expectedAttempt: number): Promise<number | null> {
    const rows: unknown = await this.manager.query(
      `UPDATE jobs SET attempt = attempt + 1, status = $2, lease_expires_at = $3, sent_at = NULL
       WHERE id = $1 AND status = ANY($4) AND attempt = $5
       RETURNING attempt`,
      [id, JobStatus.PENDING, leaseExpiresAt, REDELIVERABLE, expectedAttempt],
    );
    const updated = returnedRows<{ attempt: number }>(rows);
    return updated[0]?.attempt ?? null;
  }

  /**
   * Claims again an attempt that was claimed but never sent, once its claim lapsed (`lapsedBefore`; the api's
   * start-up pass passes the far future: nothing of its own is in flight then). The same attempt, so its delivery
   * id is the same and a copy that did reach the queue makes the new add a no-op. Null when someone else claimed it
   * or it was sent meanwhile.
   */
  async reclaimUnsent(id: string, attempt: number, leaseExpiresAt: Date, lapsedBefore: Date): Promise<number | null> {
    const rows: unknown = await this.manager.query(
      `UPDATE jobs SET lease_expires_at = $3
       WHERE id = $1 AND status = $4 AND attempt = $2 AND attempt > 0 AND sent_at IS NULL
         AND (lease_expires_at IS NULL OR lease_expires_at < $5)
       RETURNING attempt`,
      [id, attempt, leaseExpiresAt, JobStatus.PENDING, lapsedBefore],
    );
    return returnedRows<{ attempt: number }>(rows)[0]?.attempt ?? null;
  }

  /** The send of `attempt` succeeded: its lease runs from now on (never shortening one an agent renewed). */
  async markSent(id: string, attempt: number, leaseExpiresAt: Date, at: Date): Promise<boolean> {
    const rows: unknown = await this.manager.query(
      `UPDATE jobs SET sent_at = COALESCE(sent_at, $4), lease_expires_at = GREATEST(lease_expires_at, $3)
       WHERE id = $1 AND attempt = $2 AND status = ANY($5) RETURNING id`,
      [id, attempt, leaseExpiresAt, at, OPEN],
    );
    return returnedRows(rows).length === 1;
  }

  /** The agent picked the job up: RUNNING, with a fresh lease (so it was sent). Ignored for a stale attempt. */
  async markRunning(id: string, attempt: number, leaseExpiresAt: Date, at: Date): Promise<boolean> {
    const rows: unknown = await this.manager.query(
      `UPDATE jobs SET status = $2, lease_expires_at = $3, started_at = COALESCE(started_at, $4),
         sent_at = COALESCE(sent_at, $4)
       WHERE id = $1 AND status = ANY($5) AND attempt = $6 RETURNING id`,
      [id, JobStatus.RUNNING, leaseExpiresAt, at, jobMachine.sourcesOf(JobStatus.RUNNING), attempt],
    );
    return returnedRows(rows).length === 1;
  }

  /**
   * Finishes an open job exactly once; a repeated or late result finds it closed and changes nothing. With an
   * `attempt` (an agent's result), only while that attempt is still the job's: a re-send that raced the result
   * keeps the job open for the new attempt.
   */
  async finish(
    id: string,
    status: JobStatus.SUCCEEDED | JobStatus.FAILED,
    result: Record<string, unknown> | null,
    error: string | null,
    at: Date,
    attempt: number | null = null,
  ): Promise<boolean> {
    const rows: unknown = await this.manager.query(
      `UPDATE jobs SET status = $2, result = $3, error = $4, finished_at = $5, lease_expires_at = NULL
       WHERE id = $1 AND status = ANY($6) AND ($7::int IS NULL OR attempt = $7) RETURNING id`,
      [id, status, result, error, at, jobMachine.sourcesOf(status), attempt],
    );
    return returnedRows(rows).length === 1;
  }

  /**
   * Pushes the lease of an open job out to `until` without a new delivery (a repair waiting for its host to come
   * back): the reconciler looks at it again then, and a delivery already queued keeps its attempt.
   */
  async postponeLease(id: string, until: Date): Promise<boolean> {
    const rows: unknown = await this.manager.query(
      `UPDATE jobs SET lease_expires_at = $2 WHERE id = $1 AND status = ANY($3) RETURNING id`,
      [id, until, OPEN],
    );
    return returnedRows(rows).length === 1;
  }

  /** Renews the leases of RUNNING jobs that the agent of `hostId` says it is still carrying out. */
  async renewLeases(hostId: string, jobIds: readonly string[], leaseExpiresAt: Date): Promise<number> {
    if (jobIds.length === 0) return 0;
    const rows: unknown = await this.manager.query(
      `UPDATE jobs SET lease_expires_at = GREATEST(lease_expires_at, $3)
       WHERE host_id = $1 AND id = ANY($2::uuid[]) AND status = $4 RETURNING id`,
      [hostId, jobIds, leaseExpiresAt, JobStatus.RUNNING],
    );
    return returnedRows(rows).length;
  }

  /**
   * Renews the leases of the deliveries an agent holds, queued or running: a job is renewed only while the held
   * attempt is its current one (a stale copy waiting in the queue keeps nothing alive), PENDING or RUNNING.
   */
  async renewHeld(
    hostId: string,
    held: readonly { jobId: string; attempt: number }[],
    leaseExpiresAt: Date,
  ): Promise<number> {
    if (held.length === 0) return 0;
    const rows: unknown = await this.manager.query(
      `UPDATE jobs SET lease_expires_at = GREATEST(lease_expires_at, $4), sent_at = COALESCE(sent_at, now())
       FROM unnest($2::uuid[], $3::int[]) AS held(id, attempt)
       WHERE jobs.host_id = $1 AND jobs.id = held.id AND jobs.attempt = held.attempt AND jobs.status = ANY($5)
       RETURNING jobs.id`,
      [hostId, held.map((h) => h.jobId), held.map((h) => h.attempt), leaseExpiresAt, OPEN],
    );
    return returnedRows(rows).length;
  }

  /** Claimed attempts that were never sent (the api died between claim and send, or the send failed), oldest first. */
  findUnsent(limit: number): Promise<JobEntity[]> {
    return this.manager
      .createQueryBuilder(JobEntity, 'j')
      .where('j.status = :pending', { pending: JobStatus.PENDING })
      .andWhere('j.attempt > 0')
      .andWhere('j.sent_at IS NULL')
      .orderBy('j.id', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Every open job, oldest first: what a transport that lost its data may have lost. */
  findOpen(limit: number): Promise<JobEntity[]> {
    return this.manager
      .createQueryBuilder(JobEntity, 'j')
      .where('j.status IN (:...open)', { open: OPEN })
      .orderBy('j.id', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Open jobs whose lease ran out, or that were never dispatched, oldest first. */
  findLapsed(now: Date, limit: number): Promise<JobEntity[]> {
    return this.manager
      .createQueryBuilder(JobEntity, 'j')
      .where('j.status IN (:...open)', { open: OPEN })
      .andWhere('(j.lease_expires_at IS NULL OR j.lease_expires_at < :now)', { now })
      .andWhere('j.created_at < :now', { now })
      .orderBy('j.id', 'ASC')
      .limit(limit)
      .getMany();
  }
}
