import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString } from 'class-validator';

/**
 * Relay's arguments, as every list of the contract takes them: first (default 20, at most 100) and after, or
 * last (at most 100) and before, with opaque cursors that belong to one list. The range and the cursor are
 * checked where the page is read; the decorators keep the validation pipe's whitelist from stripping them.
 */
@ArgsType()
export class PageArgs {
  @Field(() => Int, {
    nullable: true,
    description: 'Page size, reading forwards (newest first): default 20, at most 100. Not with last.',
  })
  @IsOptional()
  @IsInt()
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description: "Items after this cursor: the previous page's endCursor (a cursor of this list only).",
  })
  @IsOptional()
  @IsString()
  after?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Page size, reading backwards: the last items before `before` (or of the list), at most 100.',
  })
  @IsOptional()
  @IsInt()
  last?: number | null;

  @Field(() => String, {
    nullable: true,
    description: "Items before this cursor: the next page's startCursor (a cursor of this list only).",
  })
  @IsOptional()
  @IsString()
  before?: string | null;
}
