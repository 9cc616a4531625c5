import { constants } from 'node:fs';
import { access, copyFile, mkdir, open, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DriverError } from '../volume-driver.js';
import { errorCode, fsFailure } from './fs-errors.js';

const STORAGE = 'secondary storage';

/**
 * SECONDARY_STORAGE_DIR: shared by every host, holding templates and snapshots in transit. Paths come from
 * jobs as paths relative to it, already checked lexically (`checkedRelativePath`); this class also resolves
 * symbolic links, so that no file outside secondary storage is ever read or written through one
 * (CloudStack CVE-2024-45219 and OpenStack CVE-2024-32498 read host files through crafted images and links).
 * Messages name files by their relative path only, never by a host path.
 */
export class SecondaryStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async init(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw fsFailure('Secondary storage is not usable', error, STORAGE);
    }
  }

  /** The lexical absolute path of a checked relative path, symbolic links not resolved: for labels. */
  pathOf(relativePath: string): string {
    return join(this.root, relativePath);
  }

  /**
   * The real path of the existing regular file at `relativePath`. Refused when it is missing, is not a regular
   * file, or resolves (through symbolic links) to a place outside the real path of secondary storage.
   */
  async resolveFile(relativePath: string, action: string): Promise<string> {
    const root = await this.realRoot(action);
    let real: string;
    try {
      real = await realpath(this.pathOf(relativePath));
    } catch (error) {
      throw this.lookupFailure(relativePath, action, error);
    }
    if (!isInside(root, real)) throw outside(relativePath, action);
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
      throw this.lookupFailure(relativePath, action, error);
    });
    try {
      if (!(await handle.stat()).isFile()) throw new DriverError(`${action}: ${relativePath} is not a regular file`);
    } finally {
      await handle.close();
    }
    return real;
  }

  /**
   * Copies the file at `relativePath` to `privatePath` (a place only the agent writes), after the checks of
   * `resolveFile`, reading through one open descriptor whose real path is checked again once open: a link
   * swapped in between the check and the read cannot redirect it. What is copied is then inspected and used by
   * the caller without a second look at the shared file, so the file cannot change between check and use.
   */
  async copyOut(relativePath: string, privatePath: string, action: string): Promise<void> {
    const root = await this.realRoot(action);
    const real = await this.resolveFile(relativePath, action);
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
      throw this.lookupFailure(relativePath, action, error);
    });
    try {
      const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch((error: unknown) => {
        throw fsFailure(`${action}: could not check the file that was opened`, error, STORAGE);
      });
      if (!isInside(root, opened)) throw outside(relativePath, action);
      if (!(await handle.stat()).isFile()) throw new DriverError(`${action}: ${relativePath} is not a regular file`);
      // /proc/self/fd/N reopens the very inode held by the descriptor, whatever its path has become.
      await copyFile(`/proc/self/fd/${handle.fd}`, privatePath).catch((error: unknown) => {
        throw fsFailure(`${action}: could not copy ${relativePath}`, error, STORAGE);
      });
    } finally {
      await handle.close();
    }
  }

  /**
   * The absolute path at which the agent may write (or remove) `relativePath`: its folder is created when
   * `create`, and must really be inside secondary storage. The file itself need not exist.
   */
  async targetPath(relativePath: string, action: string, create = true): Promise<string> {
    const root = await this.realRoot(action);
    const folder = dirname(this.pathOf(relativePath));
    if (create) {
      await mkdir(folder, { recursive: true }).catch((error: unknown) => {
        throw fsFailure(action, error, STORAGE);
      });
    }
    let realFolder: string;
    try {
      realFolder = await realpath(folder);
    } catch (error) {
      // Nothing can be inside a folder that does not exist: the lexical path is as good as any.
      if (!create && (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR'))
        return this.pathOf(relativePath);
      throw fsFailure(action, error, STORAGE);
    }
    if (realFolder !== root && !isInside(root, realFolder)) throw outside(relativePath, action);
    return join(realFolder, basename(relativePath));
  }

  private async realRoot(action: string): Promise<string> {
    try {
      return await realpath(this.root);
    } catch (error) {
      throw fsFailure(action, error, STORAGE);
    }
  }

  private lookupFailure(relativePath: string, action: string, error: unknown): DriverError {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return new DriverError(`${action}: ${relativePath} does not exist in secondary storage`);
    }
    if (code === 'ELOOP')
      return new DriverError(`${action}: ${relativePath} is a symbolic link that cannot be followed`);
    return fsFailure(action, error, STORAGE);
  }
}

/** `path` is strictly below `root` (both real, absolute paths). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !isAbsolute(rel) && rel.split(sep)[0] !== '..';
}

function outside(relativePath: string, action: string): DriverError {
  return new DriverError(
    `${action}: ${relativePath} resolves to a location outside secondary storage (through a symbolic link); refused`,
  );
}
