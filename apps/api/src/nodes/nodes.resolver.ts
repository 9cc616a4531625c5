import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { can, readScope, type Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { NodeModel } from '../common/node.model.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { EnvironmentModel } from '../environments/models/environment.model.js';
import { EventModel } from '../events/event.model.js';
import { HostModel } from '../hosts/models/host.model.js';
import { InstanceSnapshotModel } from '../instance-snapshots/models/instance-snapshot.model.js';
import { InstanceModel } from '../instances/models/instance.model.js';
import { JobModel } from '../jobs/models/job.model.js';
import { OrganizationModel } from '../organizations/models/organization.model.js';
import { SnapshotModel } from '../snapshots/models/snapshot.model.js';
import { TemplateModel } from '../templates/models/template.model.js';
import { UserModel } from '../users/models/user.model.js';
import { VolumeModel } from '../volumes/models/volume.model.js';

type Lookup = () => Promise<NodeModel | null>;

@Resolver(() => NodeModel)
export class NodesResolver {
  constructor(private readonly db: Database) {}

  /** Relay's refetch by id. Ids are bare UUIDs, so each type is asked in turn, within the caller's scope. */
  @Query(() => NodeModel, {
    nullable: true,
    description: 'Any resource by its id (Relay), within what the caller may see; null otherwise.',
  })
  @RequirePermission(Permission.READ)
  async node(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: "The resource's id." }, ParseIdPipe) id: string,
  ): Promise<NodeModel | null> {
    const scope = readScope(principal);
    const repos = this.db.repos;
    const map =
      <E, M extends NodeModel>(toModel: (row: E) => M) =>
      (row: E | null): M | null =>
        row ? toModel(row) : null;
    const lookups: Lookup[] = [
      () => repos.snapshots.findById(scope, id).then(map(SnapshotModel.from)),
      () => repos.volumes.findById(scope, id).then(map(VolumeModel.from)),
      () => repos.instances.findById(scope, id).then(map(InstanceModel.from)),
      () => repos.instanceSnapshots.findById(scope, id).then(map(InstanceSnapshotModel.from)),
      () => repos.environments.findById(scope, id).then(map(EnvironmentModel.from)),
      () => repos.jobs.findById(scope, id).then(map(JobModel.from)),
      () => repos.templates.findVisible(scope, id).then(map(TemplateModel.from)),
      () => repos.users.findById(scope, id).then(map(UserModel.from)),
      () => repos.events.findById(scope, id).then(map(EventModel.from)),
      () =>
        scope.kind === 'all' || id === principal.organizationId
          ? repos.organizations.findById(id).then(map(OrganizationModel.from))
          : Promise.resolve(null),
      () =>
        can(principal, Permission.PLATFORM)
          ? repos.hosts.findById(id).then(map(HostModel.from))
          : Promise.resolve(null),
    ];
    const found = await Promise.all(lookups.map((lookup) => lookup()));
    return found.find((node) => node !== null) ?? null;
  }
}
