import { Inject, Injectable } from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import type { PubSubEngine } from 'graphql-subscriptions';
import { readScope, type Principal } from '../auth/principal.js';
import { findReadable } from '../common/access.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { JobModel } from '../jobs/models/job.model.js';
import {
  isFinal,
  jobChannel,
  jobProgress,
  reviveJob,
  snapshotChannel,
  visibleTo,
  type JobMessage,
  type JobRow,
  type SnapshotMessage,
} from './change-messages.js';
import { EventStream } from './event-stream.js';
import { SnapshotUpdate } from './models/snapshot-update.model.js';
import { PUB_SUB } from './pub-sub.js';

/**
 * The event streams behind the subscriptions. A subscriber names an environment or a job it may read, as a
 * query would: another organization's is NOT_FOUND, never FORBIDDEN, and it receives nothing.
 */
@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly db: Database,
    @Inject(PUB_SUB) private readonly pubSub: PubSubEngine,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  /** Every change of a snapshot in the environment, from now on. */
  async snapshotUpdates(principal: Principal, environmentId: string): Promise<EventStream<SnapshotUpdate>> {
    await findReadable(principal, 'Environment', environmentId, (scope) =>
      this.db.repos.environments.findById(scope, environmentId),
    );
    const scope = readScope(principal);
    return EventStream.open<SnapshotMessage, SnapshotUpdate>(
      this.pubSub,
      snapshotChannel(this.config.QUEUE_PREFIX, environmentId),
      (message, stream) => {
        if (visibleTo(scope, message.snapshot.organizationId)) stream.push(SnapshotUpdate.from(message));
      },
    );
  }

  /**
   * The job as it is now, then each step forward (a new attempt, RUNNING, the end); the stream completes
   * after SUCCEEDED or FAILED. Starting with the current row means a subscriber that arrives after the job
   * finished still hears how it ended.
   */
  async jobUpdates(principal: Principal, jobId: string): Promise<EventStream<JobModel>> {
    const scope = readScope(principal);
    await findReadable(principal, 'Job', jobId, (s) => this.db.repos.jobs.findById(s, jobId));
    let progress = -1;
    const accept = (job: JobRow, stream: EventStream<JobModel>) => {
      if (!visibleTo(scope, job.organizationId) || jobProgress(job) <= progress) return;
      progress = jobProgress(job);
      stream.push(toJobModel(job));
      if (isFinal(job.status)) stream.end();
    };
    const stream = await EventStream.open<JobMessage, JobModel>(
      this.pubSub,
      jobChannel(this.config.QUEUE_PREFIX, jobId),
      (message, s) => accept(reviveJob(message.job), s),
    );
    try {
      // Read after the subscription is in place: a change committed later is published to it.
      const current = await this.db.repos.jobs.findById(scope, jobId);
      if (current) accept(current, stream);
      else stream.end();
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }
}

function toJobModel(job: JobRow): JobModel {
  return Object.assign(new JobModel(), {
    id: job.id,
    type: job.type,
    status: job.status,
    error: job.error,
    attempt: job.attempt,
    resourceId: job.resourceId,
    resourceType: job.resourceType,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  });
}
