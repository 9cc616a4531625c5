import { execFile } from 'node:child_process';
import { DriverError } from '../volume-driver.js';

/** How a virsh process ended when it did not succeed, with libvirt's own reason as the message. */
export class VirshError extends DriverError {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
    readonly timedOut: boolean,
    readonly notInstalled: boolean,
  ) {
    super(message, timedOut);
    this.name = 'VirshError';
  }

  /** libvirt has no domain of that name (`failed to get domain 'i-…'`). */
  get domainMissing(): boolean {
    return /failed to get domain|Domain not found|no domain with matching/i.test(this.stderr);
  }

  /** The command needs a running QEMU and the domain is shut off. */
  get domainNotRunning(): boolean {
    return /domain is not running/i.test(this.stderr);
  }
}

/** QMP answered with `{"error": …}` (virsh itself exits 0 then). */
export class QmpError extends DriverError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QEMU refused ${command}: ${desc}`);
    this.name = 'QmpError';
  }
}

/** An HMP command printed something: HMP reports its errors as text with exit status 0. */
export class HmpError extends DriverError {
  constructor(
    readonly text: string,
    readonly output: string,
  ) {
    super(`QEMU monitor command "${text}" failed: ${output.trim()}`);
    this.name = 'HmpError';
  }
}

/**
 * libvirt's `error: …` lines as one readable message: the prefix dropped, the generic first line ("Failed to
 * start domain 'x'") kept in front of libvirt's reason ("Cannot access storage file …").
 */
export function virshErrorMessage(stderr: string, fallback: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.replace(/^error:\s*/i, ''));
  const unique = lines.filter((line, index) => lines.indexOf(line) === index);
  return unique.length > 0 ? unique.join(': ') : fallback;
}

export interface VirshOptions {
  /** libvirt connection URI, e.g. qemu:///system. */
  uri: string;
  /** The executable; looked up on PATH when not absolute. */
  binary?: string;
  /** A hung libvirtd must not hold an operation forever. */
  timeoutMs?: number;
}

export interface RunOptions {
  timeoutMs?: number;
}

const TWO_MINUTES = 2 * 60 * 1000;

/**
 * Runs virsh with an argument array (execFile, never a shell) against one connection URI. Every call is a fresh
 * virsh process: nothing of a domain's life is tied to this Node process.
 */
export class Virsh {
  readonly uri: string;
  private readonly binary: string;
  private readonly timeoutMs: number;

  constructor(options: VirshOptions) {
    this.uri = options.uri;
    this.binary = options.binary ?? 'virsh';
    this.timeoutMs = options.timeoutMs ?? TWO_MINUTES;
  }

  /** Resolves with stdout; rejects with a VirshError whose message is libvirt's reason. */
  run(args: readonly string[], options: RunOptions = {}): Promise<string> {
    return this.exec(['-c', this.uri, ...args], args, options);
  }

  /**
   * `run` with virsh's own timing (`virsh -t`): how long the command took inside virsh, from the request to
   * libvirtd to its answer, without virsh's start-up and connection (~20 ms). The tightest bound on a QEMU
   * command's duration a virsh client can give.
   */
  async runTimed(args: readonly string[], options: RunOptions = {}): Promise<{ stdout: string; commandMs: number }> {
    const stdout = await this.exec(['-c', this.uri, '-t', ...args], args, options);
    const match = /\n?\(Time: ([\d.]+) ms\)\s*$/.exec(stdout);
    if (!match) return { stdout, commandMs: NaN };
    return { stdout: stdout.slice(0, match.index), commandMs: Number(match[1]) };
  }

  private exec(fullArgs: string[], args: readonly string[], options: RunOptions): Promise<string> {
    const timeout = options.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.binary,
        fullArgs,
        { timeout, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (!error) {
            resolve(stdout);
            return;
          }
          const notInstalled = error.code === 'ENOENT';
          const timedOut = error.killed === true && error.signal === 'SIGKILL';
          const what = `virsh ${args[0] ?? ''}`;
          const message = notInstalled
            ? `virsh is not installed (apt-get install libvirt-clients)`
            : timedOut
              ? `${what} gave no answer within ${Math.round(timeout / 1000)} s`
              : virshErrorMessage(stderr, `${what} failed with exit code ${String(error.code)}`);
          const exitCode = typeof error.code === 'number' ? error.code : null;
          reject(new VirshError(message, args, stderr, exitCode, timedOut, notInstalled));
        },
      );
      // Always closed: virsh never waits on input it was not given.
      child.stdin?.end();
    });
  }

  /**
   * One QMP command through `virsh qemu-monitor-command`; resolves with its `return` value, rejects with a
   * QmpError carrying QEMU's `desc` when the reply is an error (virsh exits 0 then).
   */
  async qmp<T = unknown>(domain: string, command: string, args?: Record<string, unknown>): Promise<T> {
    return (await this.qmpTimed<T>(domain, command, args)).value;
  }

  /** `qmp`, with the command's duration as virsh measured it (see runTimed). */
  async qmpTimed<T = unknown>(
    domain: string,
    command: string,
    args?: Record<string, unknown>,
  ): Promise<{ value: T; commandMs: number }> {
    const request = JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args });
    const { stdout, commandMs } = await this.runTimed(['qemu-monitor-command', domain, request]);
    let reply: { return?: T; error?: { class?: string; desc?: string } };
    try {
      reply = JSON.parse(stdout) as typeof reply;
    } catch {
      throw new DriverError(`QEMU gave an unreadable answer to ${command}: ${stdout.trim().slice(0, 200)}`);
    }
    if (reply.error) {
      throw new QmpError(command, reply.error.class ?? 'GenericError', reply.error.desc ?? 'no reason given');
    }
    return { value: reply.return as T, commandMs };
  }

  /**
   * One HMP command; ANY output is a failure, since HMP prints its errors as text with exit status 0. (qemu-io's
   * own report, including "Pattern verification failed", goes to QEMU's stdout, i.e. the domain's log file, not
   * here.)
   */
  async hmp(domain: string, text: string): Promise<void> {
    const stdout = await this.run(['qemu-monitor-command', domain, '--hmp', text]);
    if (stdout.trim() !== '') throw new HmpError(text, stdout);
  }
}
