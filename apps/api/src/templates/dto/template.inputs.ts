import { Field, ID, InputType } from '@nestjs/graphql';
import { IsBoolean, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsDescription, IsResourceName } from '../../common/validation.js';

@InputType({ description: 'A template (golden image) made from a snapshot of a ROOT volume.' })
export class CreateTemplateFromSnapshotInput {
  @Field(() => ID, { description: 'A COMPLETED snapshot of a ROOT volume.' })
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;

  @Field({ description: "The template's name." })
  @IsResourceName()
  name!: string;

  @Field(() => String, { nullable: true, description: 'Free text kept with the template.' })
  @IsDescription()
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only platform administrators make public templates.' })
  @IsOptional()
  @IsBoolean()
  public?: boolean | null;
}

@InputType({
  description: 'A qcow2 image already in secondary storage, registered as a template (platform administrators).',
})
export class RegisterTemplateInput {
  @Field({ description: "The template's name." })
  @IsResourceName()
  name!: string;

  @Field({ description: 'A plain qcow2 already placed in secondary storage, relative to it.' })
  @IsString()
  @MaxLength(1024)
  path!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: "Whether every organization may deploy it (default false: the platform's own).",
  })
  @IsOptional()
  @IsBoolean()
  public?: boolean | null;
}

@InputType({ description: 'The template to delete.' })
export class DeleteTemplateInput {
  @Field(() => ID, { description: "The template's id." })
  @IsUUID('all', { message: 'templateId is not a valid id' })
  templateId!: string;
}
