import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsEmail, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';

/** The checks the create and update inputs share; the schedule and zone themselves are checked by croner. */
export const MAX_NOTIFY_ADDRESSES = 20;

export function IsSchedule(): PropertyDecorator {
  return applyDecorators(
    IsString({ message: 'schedule must be a string' }),
    MaxLength(128, { message: 'schedule is longer than 128 characters' }),
  );
}

export function IsTimezone(): PropertyDecorator {
  return applyDecorators(
    IsString({ message: 'timezone must be a string' }),
    MaxLength(64, { message: 'timezone is longer than 64 characters' }),
  );
}

export function IsKeep(): PropertyDecorator {
  return applyDecorators(
    IsInt({ message: 'keep must be an integer' }),
    Min(1, { message: 'keep must be at least 1' }),
    Max(100, { message: 'keep must be at most 100' }),
  );
}

export function IsNotifyList(): PropertyDecorator {
  return applyDecorators(
    IsArray({ message: 'notify must be a list of e-mail addresses' }),
    ArrayMaxSize(MAX_NOTIFY_ADDRESSES, { message: `notify holds at most ${MAX_NOTIFY_ADDRESSES} addresses` }),
    MaxLength(254, { each: true, message: 'notify: an address is longer than 254 characters' }),
    IsEmail({}, { each: true, message: 'notify: every item must be an e-mail address' }),
  );
}
