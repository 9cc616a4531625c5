import { ArgsType, Field, Int } from '@nestjs/graphql';

/** first (default 20, at most 100) and after (an opaque cursor), as every list of the contract takes. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Page size: default 20, at most 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  after?: string | null;
}
