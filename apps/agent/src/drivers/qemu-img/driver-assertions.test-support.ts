import { stat } from 'node:fs/promises';
import { DriverError } from '../volume-driver.js';

/** Whether anything is at `path` (the driver tests check the disk, not only the return value). */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The DriverError `promise` rejects with; any other outcome fails the test. */
export async function failure(promise: Promise<unknown>): Promise<DriverError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DriverError) return error;
    throw error;
  }
  throw new Error('expected the operation to fail');
}
