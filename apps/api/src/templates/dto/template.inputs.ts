import { Field, ID, InputType } from '@nestjs/graphql';
import { IsBoolean, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsDescription, IsResourceName } from '../../common/validation.js';

@InputType()
export class CreateTemplateFromSnapshotInput {
  @Field(() => ID, { description: 'A COMPLETED snapshot of a ROOT volume.' })
  @IsUUID('all', { message: 'snapshotId is not a valid id' })
  snapshotId!: string;

  @Field()
  @IsResourceName()
  name!: string;

  @Field(() => String, { nullable: true })
  @IsDescription()
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only platform administrators make public templates.' })
  @IsOptional()
  @IsBoolean()
  public?: boolean | null;
}

@InputType()
export class RegisterTemplateInput {
  @Field()
  @IsResourceName()
  name!: string;

  @Field({ description: 'A plain qcow2 already placed in secondary storage, relative to it.' })
  @IsString()
  @MaxLength(1024)
  path!: string;

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  public?: boolean | null;
}

@InputType()
export class DeleteTemplateInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'templateId is not a valid id' })
  templateId!: string;
}
