import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { BackupStorageModel } from '../backups/models/backup-storage.model.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import type { GraphQLContext } from '../graphql/context.js';
import { loadRequired } from '../graphql/loaders.js';
import { InstanceModel } from '../instances/models/instance.model.js';
import { BackupSchedulesService } from './backup-schedules.service.js';
import {
  CreateBackupScheduleInput,
  DeleteBackupScheduleInput,
  UpdateBackupScheduleInput,
} from './dto/backup-schedule.inputs.js';
import {
  BackupScheduleConnection,
  BackupScheduleModel,
  CreateBackupSchedulePayload,
  DeleteBackupSchedulePayload,
  UpdateBackupSchedulePayload,
} from './models/backup-schedule.model.js';

@Resolver(() => BackupScheduleModel)
export class BackupSchedulesResolver {
  constructor(private readonly service: BackupSchedulesService) {}

  @Query(() => BackupScheduleConnection, { description: 'Backup schedules the caller may see, newest first.' })
  @RequirePermission(Permission.READ)
  async backupSchedules(
    @CurrentPrincipal() principal: Principal,
    @Args() page: PageArgs,
  ): Promise<BackupScheduleConnection> {
    const now = this.service.now();
    return toConnection(await this.service.list(principal, page), (row) => BackupScheduleModel.from(row, now));
  }

  @Mutation(() => CreateBackupSchedulePayload, {
    description:
      'Recurring backups of instances: BAD_USER_INPUT for a bad schedule, time zone or retention, or one too ' +
      'frequent; NOT_FOUND for an instance the caller may not change.',
  })
  @RequirePermission(Permission.WRITE)
  async createBackupSchedule(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The instances, schedule, time zone, how to back up, retention and notify.' })
    input: CreateBackupScheduleInput,
  ): Promise<CreateBackupSchedulePayload> {
    return { backupSchedule: BackupScheduleModel.from(await this.service.create(principal, input)) };
  }

  @Mutation(() => UpdateBackupSchedulePayload, { description: 'Changes a backup schedule (the fields given).' })
  @RequirePermission(Permission.WRITE)
  async updateBackupSchedule(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The schedule and its changes.' }) input: UpdateBackupScheduleInput,
  ): Promise<UpdateBackupSchedulePayload> {
    return { backupSchedule: BackupScheduleModel.from(await this.service.update(principal, input)) };
  }

  @Mutation(() => DeleteBackupSchedulePayload, {
    description: 'Deletes a backup schedule; the backups it took stay (nothing prunes them any more).',
  })
  @RequirePermission(Permission.WRITE)
  async deleteBackupSchedule(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The schedule to delete.' }) input: DeleteBackupScheduleInput,
  ): Promise<DeleteBackupSchedulePayload> {
    return { backupSchedule: BackupScheduleModel.from(await this.service.delete(principal, input.backupScheduleId)) };
  }

  @ResolveField(() => [InstanceModel], {
    description: 'The instances it backs up (a destroyed instance leaves the schedule).',
  })
  async instances(@Parent() schedule: BackupScheduleModel, @Context() ctx: GraphQLContext): Promise<InstanceModel[]> {
    const ids = await ctx.loaders.backupScheduleInstanceIds.load(schedule.id);
    const rows = await Promise.all(ids.map((id) => ctx.loaders.instances.load(id)));
    return rows.flatMap((row) => (row ? [InstanceModel.from(row)] : []));
  }

  @ResolveField(() => BackupStorageModel, { description: 'Where its backups are written.' })
  async storage(@Parent() schedule: BackupScheduleModel, @Context() ctx: GraphQLContext): Promise<BackupStorageModel> {
    return BackupStorageModel.from(await loadRequired(ctx.loaders.backupStorages, 'BackupStorage', schedule.storageId));
  }
}
