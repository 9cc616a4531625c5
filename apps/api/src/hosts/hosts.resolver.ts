import { Args, Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { HostConnection, HostModel } from './models/host.model.js';

@Resolver(() => HostModel)
export class HostsResolver {
  constructor(private readonly db: Database) {}

  @Query(() => HostConnection, { description: 'KVM nodes registered by their agents (platform administrators).' })
  @RequirePermission(Permission.PLATFORM)
  async hosts(@Args() page: PageArgs): Promise<HostConnection> {
    return toConnection(await this.db.repos.hosts.list(page), HostModel.from);
  }
}
