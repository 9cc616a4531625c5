import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { assertId, JobStatus, Permission } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import type { GraphQLContext } from '../graphql/context.js';
import { HostModel } from '../hosts/models/host.model.js';
import { JobModel } from '../jobs/models/job.model.js';
import { AuditStorageInput } from './dto/audit-storage.input.js';
import { AuditStoragePayload, StorageAuditConnection, StorageAuditModel } from './models/storage-audit.model.js';
import { StorageAuditsService } from './storage-audits.service.js';

@Resolver(() => StorageAuditModel)
export class StorageAuditsResolver {
  constructor(
    private readonly service: StorageAuditsService,
    private readonly db: Database,
  ) {}

  @Mutation(() => AuditStoragePayload, {
    description:
      "Compares a host's disks with the database (platform administrators): CONFLICT while an audit of the host runs.",
  })
  @RequirePermission(Permission.PLATFORM)
  async auditStorage(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The host, and whether to repair.' }) input: AuditStorageInput,
  ): Promise<AuditStoragePayload> {
    const { storageAudit, job } = await this.service.audit(principal, input.hostId, input.repair ?? false);
    return { storageAudit: StorageAuditModel.from(storageAudit), job: JobModel.from(job) };
  }

  @Query(() => StorageAuditConnection, {
    description: 'Storage audits, newest first, of every host or of one (platform administrators).',
  })
  @RequirePermission(Permission.PLATFORM)
  async storageAudits(
    @Args('hostId', { type: () => ID, nullable: true, description: 'Only the audits of this host.' })
    hostId: string | null | undefined,
    @Args() page: PageArgs,
  ): Promise<StorageAuditConnection> {
    const host = hostId == null ? null : assertId(hostId, 'hostId');
    return toConnection(await this.service.list({ hostId: host }, page), StorageAuditModel.from);
  }

  @ResolveField(() => HostModel, { description: 'The host whose disks were audited.' })
  async host(@Parent() audit: StorageAuditModel): Promise<HostModel> {
    return HostModel.from((await this.db.repos.hosts.findById(audit.hostId))!);
  }

  @ResolveField(() => JobStatus, {
    description: 'Where the audit is: its INVENTORY job, then its REPAIR_STORAGE job when one follows.',
  })
  async state(@Parent() audit: StorageAuditModel, @Context() ctx: GraphQLContext): Promise<JobStatus> {
    const inventory = audit.jobId ? await ctx.loaders.jobs.load(audit.jobId) : null;
    const repair = audit.repairJobId ? await ctx.loaders.jobs.load(audit.repairJobId) : null;
    if (inventory?.status === JobStatus.FAILED || !repair) return inventory?.status ?? JobStatus.PENDING;
    return repair.status;
  }
}
