import { Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { Database, organizationScope } from '@snapdeck/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { OrganizationModel } from '../organizations/models/organization.model.js';
import { UserModel } from '../users/models/user.model.js';
import { ViewerModel } from './viewer.model.js';

@Resolver(() => ViewerModel)
export class ViewerResolver {
  constructor(private readonly db: Database) {}

  @Query(() => ViewerModel, { description: 'The caller: its user and organization.' })
  @RequirePermission(Permission.READ)
  async viewer(@CurrentPrincipal() principal: Principal): Promise<ViewerModel> {
    const [user, organization] = await Promise.all([
      this.db.repos.users.findById(organizationScope(principal.organizationId), principal.userId),
      this.db.repos.organizations.findById(principal.organizationId),
    ]);
    return { user: UserModel.from(user!), organization: OrganizationModel.from(organization!) };
  }
}
