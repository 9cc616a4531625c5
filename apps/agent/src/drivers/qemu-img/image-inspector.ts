import { lstat } from 'node:fs/promises';
import type { ImageCheck, InventoryImage, InventoryImageKind } from '@snapdeck/contracts';
import { DriverError } from '../volume-driver.js';
import { classifyCheck, onlyRecountableErrors } from './qemu-img-check.js';
import { cleanStderr, describeQemuImgFailure, isLockHeld } from './qemu-img-errors.js';
import { parseQcow2Header, readHeaderBytes } from './qcow2-header.js';
import { parseQemuImgInfo, type QcowImageInfo } from './qemu-img-info.js';
import { QemuImgProcessError, type QemuImgRunner } from './qemu-img-runner.js';

/** One image file to describe, as the driver found it in its layout. */
export interface ImageFile {
  kind: InventoryImageKind;
  id: string;
  /** Absolute path: used here, never reported. */
  file: string;
  /** What is reported: relative to primary storage (volumes) or to secondary storage (the rest). */
  relativePath: string;
  /** Known to be held by a running domain (libvirt): read with -U from the start. */
  inUse: boolean;
}

export interface CheckResult {
  check: ImageCheck;
  /** Another process held the image's lock: the check ran read-only with -U (a held image is never repaired). */
  held: boolean;
  /** Corrupt, but only with counts and flags `check -r all` recomputes from the references (onlyRecountableErrors). */
  recountable?: boolean;
}

/**
 * Reads what the storage audit and the start-up check need from one image with qemu-img: `info` (tags, sizes)
 * and `check`, each bounded in time, `-U` (force-share, read-only) when another process holds the image. The
 * header is read by plain code first: an image with a backing or external data file is never opened by
 * qemu-img here (that would read the other file too), and a file that is not qcow2 is `unreadable`.
 * Messages name files by their relative path only.
 */
export class ImageInspector {
  constructor(private readonly runner: QemuImgRunner) {}

  async describe(image: ImageFile, timeoutMs: number): Promise<InventoryImage> {
    const stats = await lstat(image.file);
    const base = {
      kind: image.kind,
      id: image.id,
      path: image.relativePath,
      // Bytes the file occupies on disk (a sparse qcow2 occupies less than its length).
      sizeBytes: stats.blocks * 512,
      modifiedAt: stats.mtime.toISOString(),
    };
    const refused = await this.refusedHeader(image);
    if (refused) return { ...base, virtualSizeBytes: null, inUse: image.inUse, tags: [], check: refused };
    const labels = labelsOf(image);
    let held = image.inUse;
    let info = await this.info(image.file, held, timeoutMs, labels);
    if (!held && !info.ok && info.lockHeld) {
      held = true;
      info = await this.info(image.file, true, timeoutMs, labels);
    }
    if (!info.ok) return { ...base, virtualSizeBytes: null, inUse: held, tags: [], check: info.check };
    const { check } = await this.check(image.file, { timeoutMs, shared: held, labels });
    return {
      ...base,
      virtualSizeBytes: info.info.virtualSizeBytes,
      inUse: held,
      tags: info.info.snapshots.map((s) => ({
        tag: s.tag,
        createdAt: s.createdAt.toISOString(),
        vmStateBytes: s.vmStateBytes,
      })),
      check,
    };
  }

  /**
   * `qemu-img check --output=json`, killed after `timeoutMs`. Without `shared`, a lock held by another process
   * makes it run again with -U, and says so (`held`).
   */
  async check(
    file: string,
    options: { timeoutMs: number; shared: boolean; labels: ReadonlyMap<string, string> },
  ): Promise<CheckResult> {
    const args = ['check', ...(options.shared ? ['-U'] : []), '-f', 'qcow2', '--output=json', file];
    try {
      await this.runner.run(args, { timeoutMs: options.timeoutMs });
      return { check: { status: 'clean' }, held: options.shared };
    } catch (error) {
      if (!(error instanceof QemuImgProcessError)) throw error;
      if (!options.shared && isLockHeld(error.stderr)) return this.check(file, { ...options, shared: true });
      const check = classifyCheck({
        exitCode: error.exitCode,
        stdout: error.stdout,
        stderr: cleanStderr(error.stderr, options.labels),
        timedOut: error.timedOut,
        timeoutSeconds: options.timeoutMs / 1000,
      });
      // A held image is never repaired, so never called recountable.
      const recountable = !options.shared && check.status === 'corrupt' && onlyRecountableErrors(error.stderr);
      return { check, held: options.shared, ...(recountable ? { recountable } : {}) };
    }
  }

  /**
   * `qemu-img check -r all`, for an image whose check found it `recountable`: it sets counts and flags
   * from the references (and frees leaks). The caller checks again.
   */
  async repairRecountable(file: string, timeoutMs: number, labels: ReadonlyMap<string, string>): Promise<void> {
    try {
      await this.runner.run(['check', '-r', 'all', '-f', 'qcow2', '--output=json', file], { timeoutMs });
    } catch (error) {
      if (!(error instanceof QemuImgProcessError)) throw error;
      const failure = describeQemuImgFailure({ ...error, timeoutSeconds: Math.round(timeoutMs / 1000) }, labels);
      throw new DriverError(`Could not repair the refcounts: ${failure.message}`, failure.retryable);
    }
  }

  /** `qemu-img check -r leaks`: frees leaked clusters only (never touches data); the caller checks again. */
  async repairLeaks(file: string, timeoutMs: number, labels: ReadonlyMap<string, string>): Promise<void> {
    try {
      await this.runner.run(['check', '-r', 'leaks', '-f', 'qcow2', '--output=json', file], { timeoutMs });
    } catch (error) {
      if (!(error instanceof QemuImgProcessError)) throw error;
      // Exit 3 after -r leaks means leaks remain; the check that follows says so. Anything else is a failure.
      if (error.exitCode === 3) return;
      const failure = describeQemuImgFailure({ ...error, timeoutSeconds: Math.round(timeoutMs / 1000) }, labels);
      throw new DriverError(`Could not repair the leaks: ${failure.message}`, failure.retryable);
    }
  }

  /** True while another process holds the image's write lock (`qemu-img info` without -U is refused). */
  async isHeld(file: string, timeoutMs: number): Promise<boolean> {
    const info = await this.info(file, false, timeoutMs, new Map());
    return !info.ok && info.lockHeld;
  }

  private async info(
    file: string,
    shared: boolean,
    timeoutMs: number,
    labels: ReadonlyMap<string, string>,
  ): Promise<{ ok: true; info: QcowImageInfo } | { ok: false; lockHeld: boolean; check: ImageCheck }> {
    const args = ['info', ...(shared ? ['-U'] : []), '-f', 'qcow2', '--output=json', file];
    try {
      return { ok: true, info: parseQemuImgInfo(await this.runner.run(args, { timeoutMs })) };
    } catch (error) {
      if (error instanceof DriverError) return { ok: false, lockHeld: false, check: unreadable(error.message) };
      if (!(error instanceof QemuImgProcessError)) throw error;
      if (error.timedOut) {
        return { ok: false, lockHeld: false, check: classifyCheck({ ...error, timeoutSeconds: timeoutMs / 1000 }) };
      }
      const message = cleanStderr(error.stderr, labels) || 'qemu-img info failed';
      return { ok: false, lockHeld: isLockHeld(error.stderr), check: unreadable(message) };
    }
  }

  /** The check of an image qemu-img must not open, or null when its header is a plain qcow2's. */
  private async refusedHeader(image: ImageFile): Promise<ImageCheck | null> {
    let bytes: Uint8Array;
    try {
      bytes = await readHeaderBytes(image.file);
    } catch {
      return unreadable('the file cannot be read');
    }
    const header = parseQcow2Header(bytes);
    if (!header) return unreadable('not a qcow2 image');
    if (header.hasBackingFile) return unreadable('has a backing file; not opened');
    if (header.hasExternalDataFile) return unreadable('has an external data file; not opened');
    return null;
  }
}

function unreadable(message: string): ImageCheck {
  return { status: 'unreadable', message };
}

function labelsOf(image: ImageFile): ReadonlyMap<string, string> {
  return new Map([[image.file, image.relativePath]]);
}
