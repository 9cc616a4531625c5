import { Field, ID, InputType } from '@nestjs/graphql';
import { IsBoolean, IsOptional, IsUUID } from 'class-validator';

@InputType({ description: "Which host's disks to audit, and whether to repair what is certain." })
export class AuditStorageInput {
  @Field(() => ID, { description: 'The host to audit (UP).' })
  @IsUUID('all', { message: 'hostId is not a valid id' })
  hostId!: string;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Repair (default false: report only): missing snapshots, recovery points and volumes become ERROR; orphans no row owns, older than STORAGE_AUDIT_ORPHAN_GRACE_MINUTES, are removed.',
  })
  @IsOptional()
  @IsBoolean()
  repair?: boolean | null;
}
