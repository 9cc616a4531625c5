import { Args, ID, Resolver, Subscription } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import type { GraphQLContext } from '../graphql/context.js';
import { JobModel } from '../jobs/models/job.model.js';
import type { EventStream } from './event-stream.js';
import { SnapshotUpdate } from './models/snapshot-update.model.js';
import { SubscriptionsService } from './subscriptions.service.js';

/**
 * One context serves every event of a subscription, so rows its loaders cached for the last event (the job
 * of a snapshot, its volume) are forgotten before the next one is resolved.
 */
function freshEvent<T>(event: T, _args: unknown, context: GraphQLContext): T {
  context.forgetLoadedRows();
  return event;
}

/** GraphQL over WebSocket (graphql-ws); the connection authenticates once, in its connection_init payload. */
@Resolver()
export class SubscriptionsResolver {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Subscription(() => SnapshotUpdate, {
    description:
      'Each change of a snapshot in the environment: created (IN_PROGRESS), COMPLETED or ERROR, DESTROYING, ' +
      'and once more with removed: true when the delete is confirmed.',
    resolve: freshEvent,
  })
  @RequirePermission(Permission.READ)
  snapshotUpdated(
    @CurrentPrincipal() principal: Principal,
    @Args('environmentId', { type: () => ID, description: 'The environment whose snapshots to follow.' }, ParseIdPipe)
    environmentId: string,
  ): Promise<EventStream<SnapshotUpdate>> {
    return this.subscriptions.snapshotUpdates(principal, environmentId);
  }

  @Subscription(() => JobModel, {
    description:
      'The job as it is now, then each step forward (PENDING per attempt, RUNNING); completes after ' +
      'SUCCEEDED or FAILED.',
    resolve: freshEvent,
  })
  @RequirePermission(Permission.READ)
  jobUpdated(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: 'The job to follow.' }, ParseIdPipe) id: string,
  ): Promise<EventStream<JobModel>> {
    return this.subscriptions.jobUpdates(principal, id);
  }
}
