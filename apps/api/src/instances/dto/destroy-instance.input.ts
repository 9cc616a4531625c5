import { Field, ID, InputType } from '@nestjs/graphql';
import { IsBoolean, IsOptional, IsUUID } from 'class-validator';

@InputType({ description: 'The instance to destroy.' })
export class DestroyInstanceInput {
  @Field(() => ID, { description: "The instance's id." })
  @IsUUID('all', { message: 'instanceId is not a valid id' })
  instanceId!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Delete the snapshots of its volumes too; refused otherwise while any exist.',
  })
  @IsOptional()
  @IsBoolean()
  expungeSnapshots?: boolean | null;
}
