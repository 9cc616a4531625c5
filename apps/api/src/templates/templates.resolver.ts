import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { RequirePermission } from '../auth/require-permission.decorator.js';
import { toConnection } from '../common/connection.model.js';
import { PageArgs } from '../common/page.args.js';
import { ParseIdPipe } from '../common/parse-id.pipe.js';
import type { GraphQLContext } from '../graphql/context.js';
import { JobModel } from '../jobs/models/job.model.js';
import { SnapshotModel } from '../snapshots/models/snapshot.model.js';
import { CreateTemplateFromSnapshotInput, DeleteTemplateInput, RegisterTemplateInput } from './dto/template.inputs.js';
import {
  CreateTemplateFromSnapshotPayload,
  DeleteTemplatePayload,
  RegisterTemplatePayload,
  TemplateConnection,
  TemplateModel,
} from './models/template.model.js';
import { TemplatesService, type TemplateOperation } from './templates.service.js';

@Resolver(() => TemplateModel)
export class TemplatesResolver {
  constructor(private readonly service: TemplatesService) {}

  @Query(() => TemplateConnection, { description: "The organization's own templates and the public ones." })
  @RequirePermission(Permission.READ)
  async templates(@CurrentPrincipal() principal: Principal, @Args() page: PageArgs): Promise<TemplateConnection> {
    return toConnection(await this.service.list(principal, page), TemplateModel.from);
  }

  @Query(() => TemplateModel, {
    nullable: true,
    description: "One template by id (the organization's own or a public one), or null.",
  })
  @RequirePermission(Permission.READ)
  async template(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID, description: "The template's id." }, ParseIdPipe) id: string,
  ): Promise<TemplateModel | null> {
    const row = await this.service.findById(principal, id);
    return row ? TemplateModel.from(row) : null;
  }

  @Mutation(() => CreateTemplateFromSnapshotPayload, { description: 'A template from a snapshot of a ROOT volume.' })
  @RequirePermission(Permission.WRITE)
  async createTemplateFromSnapshot(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: "The snapshot and the template's name." }) input: CreateTemplateFromSnapshotInput,
  ): Promise<CreateTemplateFromSnapshotPayload> {
    return toPayload(await this.service.createFromSnapshot(principal, input));
  }

  @Mutation(() => RegisterTemplatePayload, {
    description: 'Registers a qcow2 image in secondary storage as a template (platform administrators).',
  })
  @RequirePermission(Permission.PLATFORM)
  async registerTemplate(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: "The image and the template's name." }) input: RegisterTemplateInput,
  ): Promise<RegisterTemplatePayload> {
    return toPayload(await this.service.register(principal, input));
  }

  @Mutation(() => DeleteTemplatePayload, {
    description: 'Deletes a template: DESTROYING now, gone when its image is removed.',
  })
  @RequirePermission(Permission.WRITE)
  async deleteTemplate(
    @CurrentPrincipal() principal: Principal,
    @Args('input', { description: 'The template to delete.' }) input: DeleteTemplateInput,
  ): Promise<DeleteTemplatePayload> {
    return toPayload(await this.service.delete(principal, input.templateId));
  }

  @ResolveField(() => SnapshotModel, { nullable: true, description: 'The snapshot it was made from, while it exists.' })
  async sourceSnapshot(
    @Parent() template: TemplateModel,
    @Context() ctx: GraphQLContext,
  ): Promise<SnapshotModel | null> {
    const row = template.sourceSnapshotId ? await ctx.loaders.snapshots.load(template.sourceSnapshotId) : null;
    return row ? SnapshotModel.from(row) : null;
  }

  @ResolveField(() => JobModel, { nullable: true, description: 'The job of the latest operation on this template.' })
  async job(@Parent() template: TemplateModel, @Context() ctx: GraphQLContext): Promise<JobModel | null> {
    const row = template.lastJobId ? await ctx.loaders.jobs.load(template.lastJobId) : null;
    return row ? JobModel.from(row) : null;
  }
}

function toPayload(operation: TemplateOperation): { template: TemplateModel; job: JobModel } {
  return { template: TemplateModel.from(operation.template), job: JobModel.from(operation.job) };
}
