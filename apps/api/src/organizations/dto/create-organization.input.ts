import { Field, InputType } from '@nestjs/graphql';
import { IsResourceName } from '../../common/validation.js';

@InputType()
export class CreateOrganizationInput {
  @Field()
  @IsResourceName()
  name!: string;
}
