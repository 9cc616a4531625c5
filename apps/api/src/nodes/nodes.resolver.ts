import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { Database, type Repositories } from '@snapdeck/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { can, readScope, tokenScope, writeScope, type Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { BackupScheduleModel } from '../backup-schedules/models/backup-schedule.model.js';
import { BackupStorageModel } from '../backups/models/backup-storage.model.js';
import { BackupModel } from '../backups/models/backup.model.js';
import { NodeModel } from '../common/node.model.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { EnvironmentModel } from '../environments/models/environment.model.js';
import { EventModel } from '../events/event.model.js';
import { HostModel } from '../hosts/models/host.model.js';
import { InstanceSnapshotModel } from '../instance-snapshots/models/instance-snapshot.model.js';
import { InstanceModel } from '../instances/models/instance.model.js';
import { JobModel } from '../jobs/models/job.model.js';
import { WebhookModel } from '../notifications/models/webhook.model.js';
import { OrganizationModel } from '../organizations/models/organization.model.js';
import { SnapshotPolicyModel } from '../snapshot-policies/models/snapshot-policy.model.js';
import { SnapshotModel } from '../snapshots/models/snapshot.model.js';
import { StorageAuditModel } from '../storage-audits/models/storage-audit.model.js';
import { TemplateModel } from '../templates/models/template.model.js';
import { ApiTokenModel } from '../users/models/api-token.model.js';
import { UserModel } from '../users/models/user.model.js';
import { VolumeModel } from '../volumes/models/volume.model.js';
import { LOOKUP_COST } from '../graphql/complexity.plugin.js';

type Lookup = (repos: Repositories, principal: Principal, id: string) => Promise<NodeModel | null>;

const map =
  <E, M extends NodeModel>(toModel: (row: E) => M) =>
  (row: E | null): M | null =>
    row ? toModel(row) : null;

/** Every table `node` asks for one id, each within what the caller may read. */
const LOOKUPS: readonly Lookup[] = [
  (repos, principal, id) => repos.snapshots.findById(readScope(principal), id).then(map(SnapshotModel.from)),
  (repos, principal, id) => repos.volumes.findById(readScope(principal), id).then(map(VolumeModel.from)),
  (repos, principal, id) => repos.instances.findById(readScope(principal), id).then(map(InstanceModel.from)),
  (repos, principal, id) =>
    repos.instanceSnapshots.findById(readScope(principal), id).then(map(InstanceSnapshotModel.from)),
  (repos, principal, id) => repos.environments.findById(readScope(principal), id).then(map(EnvironmentModel.from)),
  (repos, principal, id) => repos.jobs.findById(readScope(principal), id).then(map(JobModel.from)),
  (repos, principal, id) => repos.templates.findVisible(readScope(principal), id).then(map(TemplateModel.from)),
  (repos, principal, id) => repos.users.findById(readScope(principal), id).then(map(UserModel.from)),
  // Tokens as apiTokens shows them: one's own; an ORG_ADMIN's organization's; every one for the platform.
  (repos, principal, id) => repos.apiTokens.findById(tokenScope(principal), id).then(map(ApiTokenModel.from)),
  (repos, principal, id) => repos.events.findById(readScope(principal), id).then(map(EventModel.from)),
  (repos, principal, id) =>
    repos.snapshotPolicies.findById(readScope(principal), id).then(map((row) => SnapshotPolicyModel.from(row))),
  (repos, principal, id) => repos.backups.findById(readScope(principal), id).then(map(BackupModel.from)),
  (repos, _principal, id) => repos.backupStorages.findById(id).then(map(BackupStorageModel.from)),
  (repos, principal, id) =>
    repos.backupSchedules.findById(readScope(principal), id).then(map((row) => BackupScheduleModel.from(row))),
  (repos, principal, id) =>
    readScope(principal).kind === 'all' || id === principal.organizationId
      ? repos.organizations.findById(id).then(map(OrganizationModel.from))
      : Promise.resolve(null),
  (repos, principal, id) =>
    can(principal, Permission.PLATFORM) ? repos.hosts.findById(id).then(map(HostModel.from)) : Promise.resolve(null),
  (repos, principal, id) =>
    can(principal, Permission.PLATFORM)
      ? repos.storageAudits.findById(id).then(map(StorageAuditModel.from))
      : Promise.resolve(null),
  // Webhooks as webhooks lists them: the organization's administrators (a platform administrator: any).
  (repos, principal, id) =>
    can(principal, Permission.MANAGE_ORGANIZATION)
      ? repos.webhooks.findById(writeScope(principal), id).then(map(WebhookModel.from))
      : Promise.resolve(null),
];

/** The tables `node` asks for one id: its cost is one lookup each. */
export const NODE_LOOKUPS = LOOKUPS.length;

/** Any row by its id within what the caller may read (each table asked in turn: ids are bare UUIDs). */
export async function findNode(repos: Repositories, principal: Principal, id: string): Promise<NodeModel | null> {
  const found = await Promise.all(LOOKUPS.map((lookup) => lookup(repos, principal, id)));
  return found.find((node) => node !== null) ?? null;
}

@Resolver(() => NodeModel)
export class NodesResolver {
  constructor(private readonly db: Database) {}

  /** Relay's refetch by id. Ids are bare UUIDs, so each type is asked in turn, within the caller's scope. */
  @Query(() => NodeModel, {
    nullable: true,
    description: 'Any resource by its id (Relay), within what the caller may see; null otherwise.',
    // The root estimator adds one LOOKUP_COST; the other tables are asked as well.
    complexity: ({ childComplexity }) => (NODE_LOOKUPS - 1) * LOOKUP_COST + childComplexity,
  })
  @RequirePermission(Permission.READ)
  async node(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: "The resource's id." }, ParseIdPipe) id: string,
  ): Promise<NodeModel | null> {
    return findNode(this.db.repos, principal, id);
  }
}
