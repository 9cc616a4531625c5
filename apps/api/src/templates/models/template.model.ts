import { Field, Float, ID, ObjectType } from '@nestjs/graphql';
import { TemplateState } from '@snapdeck/domain';
import type { TemplateEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import { JobModel } from '../../jobs/models/job.model.js';

@ObjectType('Template', { implements: () => [NodeModel] })
export class TemplateModel implements NodeModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => TemplateState)
  state!: TemplateState;

  @Field({ description: 'Usable by every organization (only platform administrators make public templates).' })
  public!: boolean;

  @Field(() => Float, { nullable: true, description: 'Virtual size of the image in bytes, once written.' })
  virtualSizeBytes!: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last operation on this template failed.' })
  error!: string | null;

  @Field()
  createdAt!: Date;

  organizationId!: string;
  sourceSnapshotId!: string | null;
  lastJobId!: string | null;

  static from(row: TemplateEntity): TemplateModel {
    return Object.assign(new TemplateModel(), {
      id: row.id,
      name: row.name,
      description: row.description,
      state: row.state,
      public: row.public,
      virtualSizeBytes: row.virtualSizeBytes === null ? null : Number(row.virtualSizeBytes),
      error: row.error,
      createdAt: row.createdAt,
      organizationId: row.organizationId,
      sourceSnapshotId: row.sourceSnapshotId,
      lastJobId: row.lastJobId,
    });
  }
}

@ObjectType('TemplateConnection')
export class TemplateConnection extends Connection(TemplateModel, 'Template') {}

function TemplateJobPayload(name: string) {
  @ObjectType(name, { isAbstract: true })
  abstract class Payload {
    @Field(() => TemplateModel)
    template!: TemplateModel;

    @Field(() => JobModel)
    job!: JobModel;
  }
  return Payload;
}

@ObjectType()
export class CreateTemplateFromSnapshotPayload extends TemplateJobPayload('CreateTemplateFromSnapshotPayload') {}

@ObjectType()
export class RegisterTemplatePayload extends TemplateJobPayload('RegisterTemplatePayload') {}

@ObjectType()
export class DeleteTemplatePayload extends TemplateJobPayload('DeleteTemplatePayload') {}
