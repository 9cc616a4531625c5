import 'reflect-metadata';
import { Permission } from '@snapdeck/domain';
import { REQUIRED_PERMISSION } from '../auth/require-permission.decorator.js';
import { BackupsResolver } from './backups.resolver.js';

/** Roles are the guard's: each backup operation declares the permission the contract gives it. */
describe('BackupsResolver permissions', () => {
  const required = (name: keyof BackupsResolver): unknown =>
    Reflect.getMetadata(
      REQUIRED_PERMISSION,
      Object.getOwnPropertyDescriptor(BackupsResolver.prototype, name)!.value as object,
    );

  it.each([
    ['backups', Permission.READ],
    ['backup', Permission.READ],
    ['backupStorages', Permission.READ],
    ['createBackup', Permission.WRITE],
    ['deleteBackup', Permission.WRITE],
    ['restoreBackup', Permission.WRITE],
    ['createBackupStorage', Permission.PLATFORM],
  ] as const)('%s needs %s', (name, permission) => {
    expect(required(name)).toBe(permission);
  });
});
