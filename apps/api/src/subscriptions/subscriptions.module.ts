import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { InProcessBus } from '@snapdeck/transport';
import type { PubSubEngine } from 'graphql-subscriptions';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { IN_PROCESS_BUS } from '../orchestration/tokens.js';
import { ChangeFeed } from './change-feed.service.js';
import { closePubSub, createPubSub, PUB_SUB } from './pub-sub.js';
import { SubscriptionsResolver } from './subscriptions.resolver.js';
import { SubscriptionsService } from './subscriptions.service.js';

/**
 * GraphQL subscriptions (`snapshotUpdated`, `jobUpdated`) and the ChangeFeed that the code changing snapshots
 * and jobs tells after each commit. Global, so the orchestration can take the ChangeFeed without importing
 * this module (which would turn the dependency around).
 */
@Global()
@Module({
  providers: [
    {
      provide: PUB_SUB,
      inject: [API_CONFIG, IN_PROCESS_BUS],
      useFactory: (config: ApiConfig, bus: InProcessBus | null) => createPubSub(config, bus),
    },
    ChangeFeed,
    SubscriptionsService,
    SubscriptionsResolver,
  ],
  exports: [ChangeFeed, PUB_SUB],
})
export class SubscriptionsModule implements OnApplicationShutdown {
  constructor(@Inject(PUB_SUB) private readonly pubSub: PubSubEngine) {}

  /** The WebSocket server closed its connections when the GraphQL module stopped; then the Redis connections go. */
  async onApplicationShutdown(): Promise<void> {
    await closePubSub(this.pubSub);
  }
}
