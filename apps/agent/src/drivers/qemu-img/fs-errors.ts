import { DriverError } from '../volume-driver.js';

const FS_CAUSES: Readonly<Record<string, string>> = {
  EACCES: 'permission denied on primary storage',
  EPERM: 'operation not permitted on primary storage',
  ENOSPC: 'no space left on primary storage',
  EDQUOT: 'disk quota exceeded on primary storage',
  EROFS: 'primary storage is mounted read-only',
  EIO: 'input/output error on primary storage',
  ENOTDIR: 'primary storage path is not a directory',
};

/**
 * Node's file-system errors name the full path ("EACCES: permission denied, mkdir '/srv/…'"); the job error
 * reaches tenants, so only the cause is kept.
 */
export function fsFailure(action: string, error: unknown): DriverError {
  const code = errorCode(error);
  const cause = (code && FS_CAUSES[code]) ?? `file system error${code ? ` ${code}` : ''}`;
  return new DriverError(`${action}: ${cause}`, code === 'EIO');
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
