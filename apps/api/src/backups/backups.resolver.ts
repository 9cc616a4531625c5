import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import { EnvironmentModel } from '../environments/models/environment.model.js';
import type { GraphQLContext } from '../graphql/context.js';
import { loadRequired } from '../graphql/loaders.js';
import { InstanceModel } from '../instances/models/instance.model.js';
import { JobModel } from '../jobs/models/job.model.js';
import { BackupsService } from './backups.service.js';
import {
  BackupFilter,
  CreateBackupInput,
  CreateBackupStorageInput,
  DeleteBackupInput,
  RestoreBackupInput,
} from './dto/backup.inputs.js';
import {
  BackupConnection,
  BackupModel,
  CreateBackupPayload,
  DeleteBackupPayload,
  RestoreBackupPayload,
} from './models/backup.model.js';
import {
  BackupStorageConnection,
  BackupStorageModel,
  CreateBackupStoragePayload,
} from './models/backup-storage.model.js';
import { RestoreBackupService } from './restore-backup.service.js';

@Resolver(() => BackupModel)
export class BackupsResolver {
  constructor(
    private readonly service: BackupsService,
    private readonly restores: RestoreBackupService,
  ) {}

  @Query(() => BackupStorageConnection, { description: 'The backup storages backups may be written to.' })
  @RequirePermission(Permission.READ)
  async backupStorages(@Args() page: PageArgs): Promise<BackupStorageConnection> {
    return toConnection(await this.service.listStorages(page), BackupStorageModel.from);
  }

  @Mutation(() => CreateBackupStoragePayload, {
    description: 'Registers a path every node mounts as a backup storage (platform administrators).',
  })
  @RequirePermission(Permission.PLATFORM)
  async createBackupStorage(
    @Args('input', { description: "The storage's name and path." }) input: CreateBackupStorageInput,
  ): Promise<CreateBackupStoragePayload> {
    return { backupStorage: BackupStorageModel.from(await this.service.createStorage(input)) };
  }

  @Query(() => BackupConnection, { description: 'Backups the caller may see, newest first.' })
  @RequirePermission(Permission.READ)
  async backups(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
    @Args('filter', { nullable: true, description: 'Which backups (default: all of them).' }) filter?: BackupFilter,
  ): Promise<BackupConnection> {
    return toConnection(await this.service.list(principal, filter ?? {}, page), BackupModel.from);
  }

  @Query(() => BackupModel, { nullable: true, description: 'One backup by id, or null if the caller may not see it.' })
  @RequirePermission(Permission.READ)
  async backup(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: "The backup's id." }, ParseIdPipe) id: string,
  ): Promise<BackupModel | null> {
    const row = await this.service.findById(principal, id);
    return row ? BackupModel.from(row) : null;
  }

  @Mutation(() => CreateBackupPayload, {
    description: 'Backs up every disk of an instance: CREATING now, READY or ERROR when the job ends.',
  })
  @RequirePermission(Permission.WRITE)
  async createBackup(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The instance, and how to back it up.' }) input: CreateBackupInput,
  ): Promise<CreateBackupPayload> {
    const { backup, job } = await this.service.create(principal, input);
    return { backup: BackupModel.from(backup), job: JobModel.from(job) };
  }

  @Mutation(() => DeleteBackupPayload, { description: 'Deletes a backup: DESTROYING now, gone when its folder is.' })
  @RequirePermission(Permission.WRITE)
  async deleteBackup(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The backup to delete.' }) input: DeleteBackupInput,
  ): Promise<DeleteBackupPayload> {
    const { backup, job } = await this.service.delete(principal, input.backupId);
    return { backup: BackupModel.from(backup), job: JobModel.from(job) };
  }

  @Mutation(() => RestoreBackupPayload, {
    description:
      'Restores a READY backup into a new instance (environmentId and name) or over its own STOPPED instance ' +
      '(instanceId), after a safety snapshot of each of its disks.',
  })
  @RequirePermission(Permission.WRITE)
  async restoreBackup(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The backup and where to restore it.' }) input: RestoreBackupInput,
  ): Promise<RestoreBackupPayload> {
    const { instance, job } = await this.restores.restore(principal, input);
    return { instance: InstanceModel.from(instance), job: JobModel.from(job) };
  }

  @ResolveField(() => InstanceModel, { nullable: true, description: 'The instance backed up, while it exists.' })
  async instance(@Parent() backup: BackupModel, @Context() ctx: GraphQLContext): Promise<InstanceModel | null> {
    const row = backup.instanceId ? await ctx.loaders.instances.load(backup.instanceId) : null;
    return row ? InstanceModel.from(row) : null;
  }

  @ResolveField(() => EnvironmentModel, { description: 'The environment of the instance backed up.' })
  async environment(@Parent() backup: BackupModel, @Context() ctx: GraphQLContext): Promise<EnvironmentModel> {
    return EnvironmentModel.from(await loadRequired(ctx.loaders.environments, 'Environment', backup.environmentId));
  }

  @ResolveField(() => BackupModel, { nullable: true, description: 'The backup an incremental one builds on.' })
  async parent(@Parent() backup: BackupModel, @Context() ctx: GraphQLContext): Promise<BackupModel | null> {
    const row = backup.parentId ? await ctx.loaders.backups.load(backup.parentId) : null;
    return row ? BackupModel.from(row) : null;
  }

  @ResolveField(() => [BackupModel], {
    description:
      'The incremental backups written on this one: they need it to restore, so it cannot be deleted before them.',
  })
  async dependents(@Parent() backup: BackupModel, @Context() ctx: GraphQLContext): Promise<BackupModel[]> {
    return (await ctx.loaders.backupChildren.load(backup.id)).map((row) => BackupModel.from(row));
  }

  @ResolveField(() => BackupStorageModel, { description: 'Where it is written.' })
  async storage(@Parent() backup: BackupModel, @Context() ctx: GraphQLContext): Promise<BackupStorageModel> {
    return BackupStorageModel.from(await loadRequired(ctx.loaders.backupStorages, 'BackupStorage', backup.storageId));
  }

  @ResolveField(() => JobModel, { nullable: true, description: 'The job of the latest operation on this backup.' })
  async job(@Parent() backup: BackupModel, @Context() ctx: GraphQLContext): Promise<JobModel | null> {
    const row = backup.jobId ? await ctx.loaders.jobs.load(backup.jobId) : null;
    return row ? JobModel.from(row) : null;
  }
}
