import { Field, InputType } from '@nestjs/graphql';
import { IsResourceName } from '../../common/validation.js';

@InputType({ description: 'A new organization (tenant).' })
export class CreateOrganizationInput {
  @Field({ description: "The organization's name, unique on the platform." })
  @IsResourceName()
  name!: string;
}
