import { HOSTNAME_LABEL, MAX_DESCRIPTION_LENGTH, RESOURCE_NAME } from '@snapdeck/domain';
import { IsOptional, Matches, MaxLength, type ValidationOptions } from 'class-validator';

/** Decorators for input classes, built on the domain's rules so there is one definition of a valid name. */
export function IsResourceName(options?: ValidationOptions): PropertyDecorator {
  return Matches(RESOURCE_NAME, {
    message: "$property must be 1-63 characters of letters, digits, '-', '_' and '.'",
    ...options,
  });
}

export function IsInstanceName(options?: ValidationOptions): PropertyDecorator {
  return Matches(HOSTNAME_LABEL, {
    message: "$property must be a hostname label: 1-63 letters, digits and '-', not starting or ending with '-'",
    ...options,
  });
}

export function IsDescription(): PropertyDecorator {
  return (target, key) => {
    IsOptional()(target, key);
    MaxLength(MAX_DESCRIPTION_LENGTH, { message: `$property must be at most ${MAX_DESCRIPTION_LENGTH} characters` })(
      target,
      key,
    );
    // PostgreSQL text cannot hold NUL.
    Matches(/^[^\u0000]*$/, { message: '$property must not contain NUL characters' })(target, key);
  };
}
