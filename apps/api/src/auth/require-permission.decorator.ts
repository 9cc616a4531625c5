import { SetMetadata } from '@nestjs/common';
import type { Permission } from '@snapdeck/domain';

export const REQUIRED_PERMISSION = 'snapdeck:required-permission';

/**
 * Every query and mutation names the permission it needs; the guard refuses an operation without one,
 * so a new resolver is closed until someone decides who may call it.
 */
export const RequirePermission = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);
