import { constants, type Stats } from 'node:fs';
import { access, type FileHandle, mkdir, open, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { agentSecondaryFolderOf } from '@snapdeck/contracts';
import { DriverError } from '../volume-driver.js';
import { errorCode, fsFailure } from './fs-errors.js';

const STORAGE = 'secondary storage';

/**
 * Every open of a shared file: never through a final symbolic link, and never blocking. O_NONBLOCK changes
 * nothing for a regular file, but the open of a FIFO without it waits for a writer that may never come (it held
 * an import job forever); with it the open returns at once and fstat refuses what is not a regular file.
 */
const OPEN_SHARED = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** How long one read of a shared file may take before the operation fails (an NFS server gone quiet). */
export const DEFAULT_SECONDARY_READ_TIMEOUT_MS = 60_000;

const COPY_CHUNK_BYTES = 1024 * 1024;

export interface SecondaryStorageOptions {
  /** A read of a shared file that takes longer fails the operation instead of holding it. */
  readTimeoutMs?: number;
}

/** A read that did not finish in time; the descriptor it was reading from must not be awaited on close. */
export class StalledReadError extends DriverError {}

/**
 * SECONDARY_STORAGE_DIR: shared by every host, holding templates and snapshots in transit. Paths come from
 * jobs as paths relative to it, already checked lexically (`checkedRelativePath`); this class also resolves
 * symbolic links, so that no file outside secondary storage is ever read or written through one
 * (CloudStack CVE-2024-45219 and OpenStack CVE-2024-32498 read host files through crafted images and links).
 * Messages name files by their relative path only, never by a host path.
 */
export class SecondaryStorage {
  readonly root: string;
  readonly readTimeoutMs: number;

  constructor(root: string, options: SecondaryStorageOptions = {}) {
    this.root = resolve(root);
    this.readTimeoutMs = options.readTimeoutMs ?? DEFAULT_SECONDARY_READ_TIMEOUT_MS;
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

  /** The real path of `relativePath` (symbolic links resolved), refused when it leaves secondary storage. */
  private async realPathInside(relativePath: string, action: string): Promise<{ root: string; real: string }> {
    const root = await this.realRoot(action);
    let real: string;
    try {
      real = await realpath(this.pathOf(relativePath));
    } catch (error) {
      throw this.lookupFailure(relativePath, action, error);
    }
    if (!isInside(root, real)) throw outside(relativePath, action);
    return { root, real };
  }

  /**
   * The real path of the existing regular file at `relativePath`. Refused when it is missing, is not a regular
   * file, or resolves (through symbolic links) to a place outside the real path of secondary storage.
   */
  async resolveFile(relativePath: string, action: string): Promise<string> {
    const { real } = await this.realPathInside(relativePath, action);
    const handle = await open(real, OPEN_SHARED).catch((error: unknown) => {
      throw this.lookupFailure(relativePath, action, error);
    });
    try {
      assertRegular(await handle.stat(), relativePath, action);
    } finally {
      await handle.close();
    }
    return real;
  }

  /**
   * Copies an operator's file at `relativePath` to `privatePath` (a place only the agent writes), reading
   * through one open descriptor whose real path is checked once open: a link swapped in between the check and
   * the read cannot redirect it. What is copied is then inspected and used by the caller without a second look
   * at the shared file, so the file cannot change between check and use. Refused:
   * - anything in a folder the agents write (`templates/`, `transfers/`), by the path given and by the real
   *   path once symbolic links are resolved: another organization's template or a snapshot in transit;
   * - anything but a regular file (a FIFO, a device, a folder), decided by fstat of the open descriptor;
   * - a file with more than one hard link: the other name may be outside secondary storage (a host file
   *   linked in), or an agent-written template, and no path check can see it;
   * - a read that stalls for longer than the read timeout fails the copy instead of holding the job.
   */
  async copyOut(relativePath: string, privatePath: string, action: string): Promise<void> {
    refuseAgentFolder(relativePath, relativePath, action);
    const { root, real } = await this.realPathInside(relativePath, action);
    refuseAgentFolder(relativePath, relative(root, real), action);
    const handle = await open(real, OPEN_SHARED).catch((error: unknown) => {
      throw this.lookupFailure(relativePath, action, error);
    });
    let stalled = false;
    try {
      const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch((error: unknown) => {
        throw fsFailure(`${action}: could not check the file that was opened`, error, STORAGE);
      });
      if (!isInside(root, opened)) throw outside(relativePath, action);
      refuseAgentFolder(relativePath, relative(root, opened), action);
      const stats = await handle.stat();
      assertRegular(stats, relativePath, action);
      if (stats.nlink !== 1) {
        throw new DriverError(
          `${action}: ${relativePath} has ${stats.nlink} hard links; only a file with a single link is imported ` +
            '(another link may be a file outside secondary storage or a template of another organization)',
        );
      }
      await copyWithReadTimeout(handle, privatePath, this.readTimeoutMs, `${action}: reading ${relativePath}`);
    } catch (error) {
      stalled = error instanceof StalledReadError;
      throw error;
    } finally {
      // A read stuck in the kernel keeps the descriptor busy, and FileHandle.close waits for pending reads: the
      // job must fail now, so the descriptor is closed whenever that read returns.
      if (stalled) void handle.close().catch(() => undefined);
      else await handle.close();
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

  /**
   * The real path of a folder of secondary storage (`templates`), symbolic links resolved; null when it does not
   * exist. Refused when it resolves outside secondary storage: nothing is listed or read through such a link.
   */
  async realFolder(folder: string, action: string): Promise<string | null> {
    const root = await this.realRoot(action);
    let real: string;
    try {
      real = await realpath(this.pathOf(folder));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw fsFailure(action, error, STORAGE);
    }
    if (!isInside(root, real)) throw outside(folder, action);
    return real;
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

/**
 * Copies everything `source` reads (from its current position, so a FIFO works as well as a file) into a new file
 * at `destination`; one read that takes longer than `timeoutMs` rejects with StalledReadError. Writes go to
 * the agent's own storage and are not timed.
 */
export async function copyWithReadTimeout(
  source: FileHandle,
  destination: string,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const out = await open(destination, 'wx', 0o600).catch((error: unknown) => {
    throw fsFailure(`${what}: could not create the private copy`, error);
  });
  try {
    for (;;) {
      // A fresh buffer each time: a read abandoned by the timeout may still fill the one it was given.
      const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
      const { bytesRead } = await withTimeout(source.read(buffer, 0, buffer.length, null), timeoutMs, () => {
        return new StalledReadError(`${what}: no data for ${formatSeconds(timeoutMs)}; the read was abandoned`);
      }).catch((error: unknown) => {
        if (error instanceof DriverError) throw error;
        throw fsFailure(what, error, STORAGE);
      });
      if (bytesRead === 0) return;
      await out.write(buffer, 0, bytesRead).catch((error: unknown) => {
        throw fsFailure(`${what}: could not write the private copy`, error);
      });
    }
  } finally {
    await out.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function assertRegular(stats: Stats, relativePath: string, action: string): void {
  if (stats.isFile()) return;
  const kind = stats.isFIFO()
    ? 'a FIFO (named pipe)'
    : stats.isDirectory()
      ? 'a folder'
      : stats.isSocket()
        ? 'a socket'
        : stats.isCharacterDevice() || stats.isBlockDevice()
          ? 'a device'
          : 'not a file';
  throw new DriverError(`${action}: ${relativePath} is not a regular file (it is ${kind}); refused`);
}

/** `relativePath` (as given) refused when `checked` (the given or the real path, relative to the root) lies in a folder the agents write. */
function refuseAgentFolder(relativePath: string, checked: string, action: string): void {
  const folder = agentSecondaryFolderOf(checked);
  if (!folder) return;
  const how = checked === relativePath ? 'is' : 'resolves (through a symbolic link) to a file';
  throw new DriverError(
    `${action}: ${relativePath} ${how} under ${folder}/, which the agents write; an image to import must be ` +
      'placed elsewhere in secondary storage',
  );
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
