import type { ImageCheck } from '@snapdeck/contracts';

/** How one `qemu-img check --output=json` ended, as the runner saw it. */
export interface CheckRun {
  /** 0 when it succeeded; null when it was killed. */
  exitCode: number | null;
  stdout: string;
  /** Already cleaned of host paths (cleanStderr). */
  stderr: string;
  timedOut: boolean;
  timeoutSeconds: number;
}

/**
 * qemu-img(1), "check": exit status 0 no errors, 1 the check could not be completed (an internal error, or
 * the image cannot be opened), 2 the image is corrupted, 3 leaked clusters only (no corruption). The JSON
 * (`corruptions`, `leaks`, `check-errors`) is printed with 2 and 3 too and is believed first.
 */
const EXIT_INCOMPLETE = 1;
const EXIT_CORRUPT = 2;
const EXIT_LEAKS = 3;

interface CheckReport {
  corruptions: number;
  leaks: number;
  checkErrors: number;
}

/** Classifies one check into the audit's ImageCheckStatus; never throws (an odd answer is `unreadable`). */
export function classifyCheck(run: CheckRun): ImageCheck {
  if (run.timedOut) {
    return { status: 'timeout', message: `qemu-img check did not finish within ${formatBound(run.timeoutSeconds)}` };
  }
  const report = parseCheckReport(run.stdout);
  const corruptions = report?.corruptions ?? 0;
  const leaks = report?.leaks ?? 0;
  if (corruptions > 0 || run.exitCode === EXIT_CORRUPT) {
    return {
      status: 'corrupt',
      ...(report ? { corruptions } : {}),
      ...(leaks > 0 ? { leakedClusters: leaks } : {}),
      message: withFirstError(
        corruptions > 0 ? `${corruptions} corruption(s) found by qemu-img check` : 'qemu-img check found corruptions',
        run.stderr,
      ),
    };
  }
  if ((report?.checkErrors ?? 0) > 0 || run.exitCode === EXIT_INCOMPLETE) {
    return { status: 'unreadable', message: run.stderr || 'qemu-img check could not be completed' };
  }
  if (leaks > 0 || run.exitCode === EXIT_LEAKS) {
    return {
      status: 'leaks',
      ...(report ? { leakedClusters: leaks } : {}),
      message: `${report ? leaks : 'some'} leaked cluster(s): harmless, repairable with qemu-img check -r leaks`,
    };
  }
  if (run.exitCode === 0) return { status: 'clean' };
  return {
    status: 'unreadable',
    message: run.stderr || `qemu-img check exited with status ${run.exitCode ?? 'unknown'}`,
  };
}

function parseCheckReport(stdout: string): CheckReport | null {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const record = raw as Record<string, unknown>;
  const count = (key: string) => (typeof record[key] === 'number' ? record[key] : 0);
  return { corruptions: count('corruptions'), leaks: count('leaks'), checkErrors: count('check-errors') };
}

/** The first `ERROR` line qemu-img printed, so an operator sees what kind of damage it is. */
function withFirstError(message: string, stderr: string): string {
  const first = stderr
    .split(/; |\n/)
    .map((line) => line.trim())
    .find((line) => line.startsWith('ERROR'));
  return first ? `${message} (first: ${first})` : message;
}

function formatBound(seconds: number): string {
  return seconds >= 1 ? `${Math.round(seconds)} s` : `${Math.round(seconds * 1000)} ms`;
}

const UNDERCOUNTED = /^ERROR cluster \d+ refcount=(\d+) reference=(\d+)$/;
const COPIED_FLAG = /^ERROR OFLAG_COPIED (data|L2) cluster: /;

/**
 * True when every error `qemu-img check` printed (its stderr) is one that `check -r all` recomputes from the
 * references, losing nothing: a refcount lower than the references, or a COPIED flag that disagrees with its
 * refcount. A `qemu-img snapshot -c` killed between flushing its refcounts and its L2 tables leaves these on
 * every data cluster (the restore campaign saw 770 at once, beside as many leaks). Anything else (a table out
 * of place, an offset past the end) is real damage.
 */
export function onlyRecountableErrors(stderr: string): boolean {
  const errors = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('ERROR'));
  return (
    errors.length > 0 &&
    errors.every((line) => {
      const counts = UNDERCOUNTED.exec(line);
      return counts ? Number(counts[1]) < Number(counts[2]) : COPIED_FLAG.test(line);
    })
  );
}
