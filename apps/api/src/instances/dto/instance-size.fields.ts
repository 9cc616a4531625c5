import { applyDecorators } from '@nestjs/common';
import { Field, Int } from '@nestjs/graphql';
import { DEFAULT_INSTANCE_SIZE, MAX_CPU_COUNT, MAX_MEMORY_MIB, MIN_MEMORY_MIB } from '@snapdeck/domain';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** `cpuCount` of an input that defines a new instance's domain (createInstance, deployInstance). */
export function CpuCountField(): PropertyDecorator {
  return applyDecorators(
    Field(() => Int, {
      nullable: true,
      description: `Virtual CPUs of the instance, 1–${MAX_CPU_COUNT}; default ${DEFAULT_INSTANCE_SIZE.cpuCount}.`,
    }),
    IsOptional(),
    IsInt({ message: 'cpuCount must be a whole number' }),
    Min(1, { message: `cpuCount must be between 1 and ${MAX_CPU_COUNT}` }),
    Max(MAX_CPU_COUNT, { message: `cpuCount must be between 1 and ${MAX_CPU_COUNT}` }),
  );
}

/** `memoryMiB` of an input that defines a new instance's domain. */
export function MemoryMiBField(): PropertyDecorator {
  const range = `between ${MIN_MEMORY_MIB} and ${MAX_MEMORY_MIB}`;
  return applyDecorators(
    Field(() => Int, {
      nullable: true,
      description: `Memory of the instance in MiB, ${MIN_MEMORY_MIB}–${MAX_MEMORY_MIB}; default ${DEFAULT_INSTANCE_SIZE.memoryMiB}.`,
    }),
    IsOptional(),
    IsInt({ message: 'memoryMiB must be a whole number' }),
    Min(MIN_MEMORY_MIB, { message: `memoryMiB must be ${range}` }),
    Max(MAX_MEMORY_MIB, { message: `memoryMiB must be ${range}` }),
  );
}
