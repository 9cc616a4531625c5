import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { atExit } from './cleanup.js';
import { waitFor } from './ports.js';

export interface ChildSpec {
  /** A short name for logs and errors: `api`, `agent kvm-1`, `redis`. */
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Where stdout and stderr go (appended across restarts). */
  logFile: string;
  /**
   * Signals go to its whole process group (it is started as a group leader): killing an agent then kills the
   * qemu-img it was running, as a service manager's kill of a crashed service does (systemd's control-group mode).
   */
  group?: boolean;
  /** The process runs as this account (PostgreSQL refuses root). */
  uid?: number;
  gid?: number;
}

/**
 * A program the campaign runs and may kill: started, SIGKILLed, paused (SIGSTOP) and resumed, started again
 * with the same spec. Its output goes to a log file whose tail is quoted when it dies unexpectedly.
 */
export class ManagedChild {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exited: Promise<void> = Promise.resolve();
  private unregister: () => void = () => undefined;
  /** Times it was started: a campaign checks its api was not restarted behind its back. */
  starts = 0;

  constructor(readonly spec: ChildSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    this.log = createWriteStream(this.spec.logFile, { flags: 'a' });
    this.log.write(`\n--- start ${new Date().toISOString()}\n`);
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.spec.group ?? false,
      uid: this.spec.uid,
      gid: this.spec.gid,
    });
    const log = this.log;
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
    this.starts += 1;
    this.unregister();
    this.unregister = atExit(() => {
      if (this.running || this.spec.group) this.send('SIGKILL');
    });
  }

  private send(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(this.spec.group ? -pid : pid, signal);
    } catch {
      // Gone already.
    }
  }

  /** Sends `signal`; for SIGKILL, waits (bounded) until the process is gone. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.child || !this.running) return;
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      this.send(signal);
      return;
    }
    // A stopped process queues SIGTERM; SIGCONT lets it act on it (SIGKILL needs none).
    this.send(signal);
    if (signal !== 'SIGKILL') this.send('SIGCONT');
    await this.waitForExit(signal === 'SIGKILL' ? 10_000 : 30_000);
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
    // What the group leader left running (a qemu-img it had started) goes with it.
    if (this.spec.group) this.send('SIGKILL');
  }

  async waitForExit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.spec.name} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits until the log shows `pattern` after the latest start, or fails with the log's tail. */
  async waitForLog(pattern: RegExp, timeoutMs: number): Promise<void> {
    const seen = await waitFor(
      async () => {
        if (!this.running) return 'exited';
        const text = readFileSync(this.spec.logFile, 'utf8');
        return pattern.test(text.slice(text.lastIndexOf('\n--- start '))) && 'logged';
      },
      timeoutMs,
      `${this.spec.name} to log ${pattern}`,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- ${this.spec.name} log tail:\n${this.tail()}`);
    });
    if (seen === 'exited') throw new Error(`${this.spec.name} exited while starting:\n${this.tail()}`);
  }

  /** The last lines of its log, for an error message. */
  tail(lines = 30): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    this.unregister();
    this.log?.end();
  }
}
