import { execFile } from 'node:child_process';

/** How a qemu-img process ended when it did not succeed; turned into a readable message by the driver. */
export class QemuImgProcessError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly timedOut: boolean,
    readonly notInstalled: boolean,
    /** What it printed before it failed: `qemu-img check --output=json` reports leaks and corruptions there. */
    readonly stdout = '',
  ) {
    super(`qemu-img ${args[0] ?? ''} failed`);
    this.name = 'QemuImgProcessError';
  }
}

export interface QemuImgRunnerOptions {
  /** The executable; looked up on PATH when not absolute. */
  binary?: string;
  /** A snapshot of a large, fragmented image can take minutes; a hung process must not hold a volume forever. */
  timeoutMs?: number;
}

const TEN_MINUTES = 10 * 60 * 1000;

/**
 * Runs qemu-img with an argument array (execFile, never a shell), so no id or path is ever interpreted
 * by a shell. Resolves with stdout; rejects with a QemuImgProcessError.
 */
export class QemuImgRunner {
  private readonly binary: string;
  private readonly timeoutMs: number;

  constructor(options: QemuImgRunnerOptions = {}) {
    this.binary = options.binary ?? 'qemu-img';
    this.timeoutMs = options.timeoutMs ?? TEN_MINUTES;
  }

  /** `timeoutMs` overrides the runner's bound for this call (a storage check is bounded by its job). */
  run(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.binary,
        [...args],
        {
          timeout: options.timeoutMs ?? this.timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: 16 * 1024 * 1024,
          encoding: 'utf8',
        },
        (error, stdout, stderr) => {
          if (!error) {
            resolve(stdout);
            return;
          }
          const code = typeof error.code === 'number' ? error.code : null;
          const notInstalled = error.code === 'ENOENT';
          const timedOut = error.killed === true && error.signal === 'SIGKILL';
          reject(new QemuImgProcessError(args, stderr, code, error.signal ?? null, timedOut, notInstalled, stdout));
        },
      );
    });
  }

  get timeoutSeconds(): number {
    return Math.round(this.timeoutMs / 1000);
  }
}
