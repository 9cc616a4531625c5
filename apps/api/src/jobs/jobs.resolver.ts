import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { readScope, type Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { JobModel } from './models/job.model.js';

@Resolver(() => JobModel)
export class JobsResolver {
  constructor(private readonly db: Database) {}

  @Query(() => JobModel, { nullable: true, description: 'One job by id, or null if the caller may not see it.' })
  @RequirePermission(Permission.READ)
  async job(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: "The job's id." }, ParseIdPipe) id: string,
  ): Promise<JobModel | null> {
    const row = await this.db.repos.jobs.findById(readScope(principal), id);
    return row ? JobModel.from(row) : null;
  }
}
