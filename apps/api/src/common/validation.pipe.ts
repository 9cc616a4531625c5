import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { badInput } from '@snapdeck/domain';

function firstProblem(errors: ValidationError[], path = ''): { field: string; message: string } | null {
  for (const error of errors) {
    const field = path ? `${path}.${error.property}` : error.property;
    const message = Object.values(error.constraints ?? {})[0];
    if (message) return { field, message };
    const nested = firstProblem(error.children ?? [], field);
    if (nested) return nested;
  }
  return null;
}

/** class-validator on every input, answered as BAD_USER_INPUT naming the first offending field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    exceptionFactory: (errors) => {
      const problem = firstProblem(errors);
      return badInput(problem?.message ?? 'Invalid input', problem?.field);
    },
  });
}
