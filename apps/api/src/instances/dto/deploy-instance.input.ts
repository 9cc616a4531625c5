import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { ArrayMaxSize, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { IsInstanceName } from '../../common/validation.js';
import { CpuCountField, MemoryMiBField } from './instance-size.fields.js';
import { MAX_DATA_DISKS, MAX_DISK_GIB } from './create-instance.input.js';

@InputType({ description: 'A new instance whose ROOT volume is a copy of a template.' })
export class DeployInstanceInput {
  @Field(() => ID, { description: 'The READY template to deploy.' })
  @IsUUID('all', { message: 'templateId is not a valid id' })
  templateId!: string;

  @Field(() => ID, { description: 'The environment the instance belongs to.' })
  @IsUUID('all', { message: 'environmentId is not a valid id' })
  environmentId!: string;

  @Field({ description: 'A hostname label.' })
  @IsInstanceName()
  name!: string;

  @Field(() => ID, { nullable: true, description: 'Defaults to the UP host holding the fewest volumes.' })
  @IsOptional()
  @IsUUID('all', { message: 'hostId is not a valid id' })
  hostId?: string | null;

  @CpuCountField()
  cpuCount?: number | null;

  @MemoryMiBField()
  memoryMiB?: number | null;

  @Field(() => [Int], { nullable: true, description: 'Sizes of blank data disks DATA-1, DATA-2, …' })
  @IsOptional()
  @ArrayMaxSize(MAX_DATA_DISKS)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_DISK_GIB, { each: true })
  dataDiskSizesGiB?: number[] | null;
}
