import { DriverError } from '../volume-driver.js';

export type StorageName = 'primary storage' | 'secondary storage' | 'backup storage';

const FS_CAUSES: Readonly<Record<string, (storage: StorageName) => string>> = {
  EACCES: (s) => `permission denied on ${s}`,
  EPERM: (s) => `operation not permitted on ${s}`,
  ENOSPC: (s) => `no space left on ${s}`,
  EDQUOT: (s) => `disk quota exceeded on ${s}`,
  EROFS: (s) => `${s} is mounted read-only`,
  EIO: (s) => `input/output error on ${s}`,
  ENOTDIR: (s) => `a ${s} path is not a directory`,
  ELOOP: (s) => `too many levels of symbolic links on ${s}`,
  ENAMETOOLONG: (s) => `a path on ${s} is too long`,
};

/**
 * Node's file-system errors name the full path ("EACCES: permission denied, mkdir '/srv/…'"); the job error
 * reaches tenants, so only the cause is kept.
 */
export function fsFailure(action: string, error: unknown, storage: StorageName = 'primary storage'): DriverError {
  const code = errorCode(error);
  const describe = code ? FS_CAUSES[code] : undefined;
  const cause = describe ? describe(storage) : `file system error${code ? ` ${code}` : ''} on ${storage}`;
  return new DriverError(`${action}: ${cause}`, code === 'EIO');
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
