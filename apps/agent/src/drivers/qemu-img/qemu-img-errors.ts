import { JobFailureReason } from '@snapdeck/contracts';

/** What the driver knows when qemu-img fails, to write a message an operator can act on. */
export interface QemuImgFailure {
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  notInstalled: boolean;
  timeoutSeconds: number;
}

export interface FailureDescription {
  message: string;
  retryable: boolean;
  /** The image itself is damaged (qcow2's corrupt bit is set, or qemu set it now): the api marks the volume. */
  reason?: JobFailureReason;
}

/**
 * qcow2 refuses an image whose corrupt bit is set ("Image is corrupt; cannot be opened read/write"), and sets the
 * bit when it finds a corruption mid-write ("Marking image as corrupt: …").
 */
const IMAGE_CORRUPT = /Image is corrupt|Marking image as corrupt/;

/** qemu-img prints a held lock as `Failed to get "write" lock` or `Failed to get shared "write" lock`. */
const LOCK_HELD = /Failed to get (?:shared )?"write" lock/;

/** qemu-img failed because another process (a running domain, another qemu-img) holds the image's lock. */
export function isLockHeld(stderr: string): boolean {
  return LOCK_HELD.test(stderr);
}
const QUOTED_ABSOLUTE_PATH = /'\/[^']*'|\[\/[^\]]*\]/g;
const BARE_ABSOLUTE_PATH = /(^|\s)\/[^\s:'\]]+/g;

/**
 * Turns qemu-img's stderr into one readable sentence. Known paths are replaced by labels
 * (e.g. the volume file by "volume <id>") and any other absolute path is hidden, because the message
 * ends up in the Job's error that tenants read, and host paths must not reach them.
 */
export function describeQemuImgFailure(
  failure: QemuImgFailure,
  labels: ReadonlyMap<string, string> = new Map(),
): FailureDescription {
  if (failure.notInstalled) {
    return { message: 'qemu-img is not installed on this host (Debian package qemu-utils)', retryable: false };
  }
  if (failure.timedOut) {
    return { message: `qemu-img did not finish within ${failure.timeoutSeconds} s and was stopped`, retryable: true };
  }
  const detail = cleanStderr(failure.stderr, labels);
  if (isLockHeld(failure.stderr)) {
    return {
      message: 'the image is in use by another process (its qcow2 write lock is held); try again once it is released',
      retryable: true,
    };
  }
  if (detail && IMAGE_CORRUPT.test(failure.stderr)) {
    return { message: detail, retryable: false, reason: JobFailureReason.IMAGE_DAMAGED };
  }
  if (detail) return { message: detail, retryable: false };
  if (failure.signal) return { message: `qemu-img was killed by signal ${failure.signal}`, retryable: true };
  return { message: `qemu-img exited with status ${failure.exitCode ?? 'unknown'} and no message`, retryable: false };
}

export function cleanStderr(stderr: string, labels: ReadonlyMap<string, string>): string {
  // Longest paths first, so a temporary file's label wins over the directory that contains it.
  const ordered = [...labels.entries()].sort(([a], [b]) => b.length - a.length);
  const sentences = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('Formatting '))
    .map((line) => line.replace(/^qemu-img:\s*/, ''))
    .map((line) => {
      let out = line;
      for (const [path, label] of ordered) {
        out = out.split(`'${path}'`).join(label).split(`[${path}]`).join(label).split(path).join(label);
      }
      return out.replace(QUOTED_ABSOLUTE_PATH, '<path>').replace(BARE_ABSOLUTE_PATH, '$1<path>');
    });
  // qemu-img nests the same cause ("Could not open X: Could not open X: No such file"): say it once.
  const deduplicated = sentences.map((s) => collapseRepeatedPrefix(s));
  return deduplicated.join('; ').slice(0, 1000);
}

function collapseRepeatedPrefix(sentence: string): string {
  const parts = sentence.split(': ');
  const kept = parts.filter((part, i) => i === 0 || part !== parts[i - 1]);
  return kept.join(': ');
}
