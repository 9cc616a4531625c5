import 'reflect-metadata';
import { ArgumentMetadata } from '@nestjs/common';
import { ErrorCode, Permission } from '@snapdeck/domain';
import { REQUIRED_PERMISSION } from '../auth/require-permission.decorator.js';
import { createValidationPipe } from '../common/validation.pipe.js';
import { BackupSchedulesResolver } from './backup-schedules.resolver.js';
import { CreateBackupScheduleInput } from './dto/backup-schedule.inputs.js';

/** Roles are the guard's: each operation declares the contract's permission; inputs are checked by the pipe. */
describe('BackupSchedulesResolver', () => {
  const required = (name: keyof BackupSchedulesResolver): unknown =>
    Reflect.getMetadata(
      REQUIRED_PERMISSION,
      Object.getOwnPropertyDescriptor(BackupSchedulesResolver.prototype, name)!.value as object,
    );

  it.each([
    ['backupSchedules', Permission.READ],
    ['createBackupSchedule', Permission.WRITE],
    ['updateBackupSchedule', Permission.WRITE],
    ['deleteBackupSchedule', Permission.WRITE],
  ] as const)('%s needs %s', (name, permission) => {
    expect(required(name)).toBe(permission);
  });

  const pipe = createValidationPipe();
  const meta: ArgumentMetadata = { type: 'body', metatype: CreateBackupScheduleInput };
  const valid = {
    instanceIds: ['01a23594-7bcd-73a6-9a17-bc1b7f703208'],
    schedule: '@daily',
    timezone: 'UTC',
  };

  it.each([
    [{ retention: { keepLast: 1.5 } }, 'retention.keepLast'],
    [{ retention: { keepHourly: -1 } }, 'retention.keepHourly'],
    [{ retention: { keepYearly: 101 } }, 'retention.keepYearly'],
    [{ instanceIds: [] }, 'instanceIds'],
    [{ instanceIds: ['nope'] }, 'instanceIds'],
    [{ mode: 'LIVE' }, 'mode'],
    [{ compression: 'LZ4' }, 'compression'],
    [{ notify: ['x'] }, 'notify'],
  ])('%j is BAD_USER_INPUT naming %s', async (change, field) => {
    await expect(pipe.transform({ ...valid, ...change }, meta)).rejects.toMatchObject({
      code: ErrorCode.BAD_USER_INPUT,
      details: { field },
    });
  });

  it('accepts counts 0–100 and no retention at all', async () => {
    await expect(pipe.transform({ ...valid, retention: { keepLast: 0, keepDaily: 100 } }, meta)).resolves.toBeDefined();
    await expect(pipe.transform(valid, meta)).resolves.toBeDefined();
  });
});
