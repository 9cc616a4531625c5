import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { ArrayMaxSize, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { MAX_DATA_DISKS } from '@snapdeck/domain';
import { IsInstanceName } from '../../common/validation.js';
import { CpuCountField, MemoryMiBField } from './instance-size.fields.js';

export const MAX_DISK_GIB = 16384;
export { MAX_DATA_DISKS };

@InputType({ description: 'A new instance with a blank ROOT volume and optional DATADISK volumes.' })
export class CreateInstanceInput {
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

  @Field(() => Int, { description: 'Size of the blank ROOT volume in GiB.' })
  @IsInt()
  @Min(1)
  @Max(MAX_DISK_GIB)
  rootDiskSizeGiB!: number;

  @Field(() => [Int], { nullable: true, description: 'Sizes of blank data disks DATA-1, DATA-2, …' })
  @IsOptional()
  @ArrayMaxSize(MAX_DATA_DISKS)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_DISK_GIB, { each: true })
  dataDiskSizesGiB?: number[] | null;
}
