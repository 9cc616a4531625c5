import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString } from 'class-validator';

/**
 * first (default 20, at most 100) and after (an opaque cursor), as every list of the contract takes. The
 * range and the cursor are checked where the page is read; the decorators keep the validation pipe's
 * whitelist from stripping the arguments.
 */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Page size: default 20, at most 100.' })
  @IsOptional()
  @IsInt()
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  @IsOptional()
  @IsString()
  after?: string | null;
}
