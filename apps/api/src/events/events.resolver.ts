import { Args, Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { readScope, type Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { EventConnection, EventFilter, EventModel } from './event.model.js';

@Resolver(() => EventModel)
export class EventsResolver {
  constructor(private readonly db: Database) {}

  @Query(() => EventConnection, { description: "The audit trail of the caller's organization, newest first." })
  @RequirePermission(Permission.READ)
  async events(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
    @Args('filter', { nullable: true, description: 'Which events (default: all of them).' }) filter?: EventFilter,
  ): Promise<EventConnection> {
    return toConnection(await this.db.repos.events.list(readScope(principal), filter ?? {}, page), EventModel.from);
  }
}
