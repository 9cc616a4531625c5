import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import {
  ALL_ORGANIZATIONS,
  Database,
  isJob,
  type JobEntity,
  type Repositories,
  type SnapshotEntity,
  type VolumeEntity,
} from '@snapdeck/persistence';
import type { PubSubEngine } from 'graphql-subscriptions';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { jobChannel, jobMessage, snapshotChannel, snapshotMessage } from './change-messages.js';
import { PUB_SUB } from './pub-sub.js';

/** A publish that takes longer than this is abandoned (and logged): the operation that changed the row goes on. */
const PUBLISH_TIMEOUT_MS = 2000;

/** Publishes, after the commit of the transaction that closed a job, what that transaction changed. */
export type AfterCommit = () => Promise<void>;

/**
 * Tells the subscribers of every api replica that a snapshot or a job changed. Callers name what changed,
 * after their transaction committed; the feed loads the row as it is now and publishes it, so a late publish
 * still carries the latest state. It never throws: a failed publish is logged, and the operation that made
 * the change goes on (a subscriber that missed it still finds the state with a query).
 *
 * Snapshot states move at exactly two moments, both tied to a job: when the job is created (IN_PROGRESS,
 * DESTROYING, in the transaction before `JobLauncher.launch`) and when it closes (COMPLETED, ERROR, back from
 * DESTROYING, or removed). So the orchestration calls `jobOpened` and `beforeJobCloses`, and every operation
 * that changes snapshots through a job (createSnapshot, deleteSnapshot, destroyInstance with
 * expungeSnapshots) is covered without a call of its own.
 */
@Injectable()
export class ChangeFeed {
  private readonly logger = new Logger(ChangeFeed.name);

  constructor(
    private readonly db: Database,
    @Inject(PUB_SUB) private readonly pubSub: PubSubEngine,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** After a commit that changed the job (status, attempt). */
  async jobChanged(jobId: string): Promise<void> {
    await this.guard(`job ${jobId}`, async () => {
      const job = await this.db.repos.jobs.findForOrchestration(jobId);
      if (job) await this.publish(jobChannel(this.config.QUEUE_PREFIX, job.id), jobMessage(job));
    });
  }

  /** After a commit that changed the snapshot; publishes nothing for a row that is gone. */
  async snapshotChanged(snapshotId: string): Promise<void> {
    await this.guard(`snapshot ${snapshotId}`, async () => {
      const snapshot = await this.db.repos.snapshots.findById(ALL_ORGANIZATIONS, snapshotId);
      if (snapshot) await this.publishSnapshot(snapshot, false);
    });
  }

  /**
   * After the commit that created `job`, before it is sent (so its result cannot be published first): the
   * snapshots it works on entered their transient state.
   */
  async jobOpened(job: JobEntity): Promise<void> {
    await this.guard(`job ${job.id}`, async () => {
      // In parallel: a hung pub/sub costs one timeout, not one per snapshot (destroyInstance may open many).
      const snapshots = await snapshotsOf(this.db.repos, job);
      await Promise.all(snapshots.map((snapshot) => this.publishSnapshot(snapshot, false)));
    });
  }

  /**
   * Inside the transaction that closes `job`, before its outcome is applied: remembers the snapshots it works
   * on as they are, so one the outcome removes can still be published once, as it was last. Call the returned
   * function after the commit.
   */
  async beforeJobCloses(tx: Repositories, job: JobEntity): Promise<AfterCommit> {
    let before: SnapshotEntity[] = [];
    let volumes = new Map<string, VolumeEntity>();
    try {
      before = await snapshotsOf(tx, job);
      // A job that removes a snapshot may remove its volume too: the removed event still shows the volume.
      const volumeIds = [...new Set(before.map((s) => s.volumeId))];
      volumes = new Map((await tx.volumes.findByIds(ALL_ORGANIZATIONS, volumeIds)).map((v) => [v.id, v]));
    } catch (error) {
      this.logger.warn(`changes of job ${job.id} will not be published: ${(error as Error).message}`);
    }
    return async () => {
      await this.jobChanged(job.id);
      await this.guard(`snapshots of job ${job.id}`, async () => {
        const now = new Map(
          (
            await this.db.repos.snapshots.findByIds(
              ALL_ORGANIZATIONS,
              before.map((s) => s.id),
            )
          ).map((s) => [s.id, s]),
        );
        await Promise.all(
          before.map((last) => {
            const current = now.get(last.id);
            return current
              ? this.publishSnapshot(current, false)
              : this.publishSnapshot(last, true, volumes.get(last.volumeId));
          }),
        );
      });
    };
  }

  private publishSnapshot(snapshot: SnapshotEntity, removed: boolean, volume?: VolumeEntity): Promise<void> {
    const channel = snapshotChannel(this.config.QUEUE_PREFIX, snapshot.environmentId);
    return this.publish(channel, snapshotMessage(snapshot, removed, volume));
  }

  private async publish(channel: string, message: object): Promise<void> {
    const sent = this.pubSub.publish(channel, message);
    sent.catch(() => undefined); // a failure after the timeout below was reported already
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PUBLISH_TIMEOUT_MS} ms`)), PUBLISH_TIMEOUT_MS);
      timer.unref();
    });
    try {
      await Promise.race([sent, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async guard(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.warn(`subscribers were not told about ${what}: ${(error as Error).message}`);
    }
  }
}

/** The snapshots whose state a job moves: its own snapshot, or those inside the volumes it destroys. */
async function snapshotsOf(repos: Repositories, job: JobEntity): Promise<SnapshotEntity[]> {
  if (job.resourceType === 'Snapshot') {
    const snapshot = await repos.snapshots.findById(ALL_ORGANIZATIONS, job.resourceId);
    return snapshot ? [snapshot] : [];
  }
  if (isJob(job, JobName.DESTROY_VOLUMES)) return repos.snapshots.findByVolumeIds(job.payload.volumeIds);
  return [];
}
