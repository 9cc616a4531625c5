import { Field, Float, ID, ObjectType } from '@nestjs/graphql';
import { TemplateState } from '@snapdeck/domain';
import type { TemplateEntity } from '@snapdeck/persistence';
import { Connection } from '../../common/connection.model.js';
import { NodeModel } from '../../common/node.model.js';
import { JobModel } from '../../jobs/models/job.model.js';

@ObjectType('Template', {
  implements: () => [NodeModel],
  description: 'A golden image in secondary storage that instances are deployed from.',
})
export class TemplateModel implements NodeModel {
  @Field(() => ID, { description: "The template's id." })
  id!: string;

  @Field({ description: 'Its name.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Free text kept with it.' })
  description!: string | null;

  @Field(() => TemplateState, { description: 'Where it is in its life cycle.' })
  state!: TemplateState;

  @Field({ description: 'Usable by every organization (only platform administrators make public templates).' })
  public!: boolean;

  @Field(() => Float, { nullable: true, description: 'Virtual size of the image in bytes, once written.' })
  virtualSizeBytes!: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last operation on this template failed.' })
  error!: string | null;

  @Field({ description: 'When it was made.' })
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

@ObjectType('TemplateConnection', { description: 'One page of a list of Template items (a Relay connection).' })
export class TemplateConnection extends Connection(TemplateModel, 'Template') {}

function TemplateJobPayload(name: string) {
  @ObjectType(name, { isAbstract: true })
  abstract class Payload {
    @Field(() => TemplateModel, { description: 'The template as it is now.' })
    template!: TemplateModel;

    @Field(() => JobModel, {
      description: 'The job that carries the work out: poll job(id) or subscribe to jobUpdated.',
    })
    job!: JobModel;
  }
  return Payload;
}

@ObjectType({ description: 'The template being written and its job.' })
export class CreateTemplateFromSnapshotPayload extends TemplateJobPayload('CreateTemplateFromSnapshotPayload') {}

@ObjectType({ description: 'The template being imported and its job.' })
export class RegisterTemplatePayload extends TemplateJobPayload('RegisterTemplatePayload') {}

@ObjectType({ description: 'The template being deleted and its job.' })
export class DeleteTemplatePayload extends TemplateJobPayload('DeleteTemplatePayload') {}
