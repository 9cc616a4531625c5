import { spawn } from 'node:child_process';
import { fsFailure } from '../qemu-img/fs-errors.js';
import { DriverError } from '../volume-driver.js';

export interface ProbeRequest {
  /** The storage's absolute path. */
  root: string;
  /** The backup's folder, relative to the root. */
  folder: string;
  /** `write`: make the folder, write, flush, read back and remove a file in it. `read`: list the folder. */
  mode: 'write' | 'read';
  /**
   * The root may be created (a folder of secondary storage). An operator's absolute storage is a mount point:
   * a missing root means the mount is missing, and nothing is written under the empty mount point.
   */
  createRoot: boolean;
  timeoutMs: number;
}

export interface ProbeResult {
  /** The backup's folder exists (after a write probe, always). */
  folderExists: boolean;
}

/**
 * The probe runs in a child process, which this process never waits for beyond the bound: an fs call on a hung
 * NFS mount blocks its thread (libuv's pool, in-process) and cannot be interrupted, and a process stuck in the
 * kernel outlives even SIGKILL. So the child is killed and forgotten at the deadline and the job fails then
 * (CloudStack #12829: a hard mount held the agent).
 */
const PROBE_SCRIPT = `
const fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto');
const [root, folder, mode, createRoot] = process.argv.slice(1);
const out = (o) => { process.stdout.write(JSON.stringify(o)); process.exit(0); };
try {
  if (createRoot === '1' && mode === 'write') fs.mkdirSync(root, { recursive: true });
  let rootStat;
  try { rootStat = fs.statSync(root); } catch (e) {
    if (e.code === 'ENOENT' && createRoot === '1' && mode === 'read') out({ folderExists: false });
    if (e.code === 'ENOENT') out({ error: 'NOROOT' });
    throw e;
  }
  if (!rootStat.isDirectory()) out({ error: 'ENOTDIR' });
  // Segment by segment, never through a symbolic link: nothing is made or read outside the storage.
  let dir = root;
  for (const segment of folder.split('/')) {
    dir = path.join(dir, segment);
    let found;
    try { found = fs.lstatSync(dir); } catch (e) {
      if (e.code !== 'ENOENT') throw e;
      if (mode === 'read') out({ folderExists: false });
      try { fs.mkdirSync(dir); } catch (e) { if (e.code !== 'EEXIST') throw e; }
      continue;
    }
    if (found.isSymbolicLink()) out({ error: 'ELINK' });
    if (!found.isDirectory()) out({ error: 'ENOTDIR' });
  }
  if (mode === 'write') {
    const file = path.join(dir, '.probe-' + crypto.randomUUID());
    const data = crypto.randomBytes(4096);
    const fd = fs.openSync(file, 'wx', 0o600);
    try { fs.writeSync(fd, data); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    const back = fs.readFileSync(file);
    fs.unlinkSync(file);
    if (!back.equals(data)) out({ error: 'EMISMATCH' });
  }
  fs.readdirSync(dir);
  out({ folderExists: true });
} catch (e) { out({ error: (e && e.code) || 'EUNKNOWN' }); }
`;

/** Checks, within `timeoutMs`, that the backup storage answers (see PROBE_SCRIPT); a DriverError otherwise. */
export function probeBackupStorage(request: ProbeRequest, action: string): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const args = ['-e', PROBE_SCRIPT, '--', request.root, request.folder, request.mode, request.createRoot ? '1' : '0'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(() => {
      settle(() => {
        child.kill('SIGKILL');
        // Neither the child nor its pipe may keep this process waiting: both are let go.
        child.stdout.destroy();
        child.unref();
        const ms = request.timeoutMs;
        const bound = ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
        reject(
          new DriverError(
            `${action}: the backup storage did not answer within ${bound} (a dead or hung mount?); nothing was done`,
          ),
        );
      });
    }, request.timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', (error) => settle(() => reject(new DriverError(`${action}: ${error.message}`))));
    child.on('close', () =>
      settle(() => {
        let answer: { folderExists?: boolean; error?: string };
        try {
          answer = JSON.parse(stdout) as typeof answer;
        } catch {
          reject(new DriverError(`${action}: the backup storage probe gave no answer`));
          return;
        }
        if (answer.error === undefined) {
          resolve({ folderExists: answer.folderExists === true });
          return;
        }
        reject(probeFailure(action, answer.error));
      }),
    );
  });
}

function probeFailure(action: string, code: string): DriverError {
  switch (code) {
    case 'NOROOT':
      return new DriverError(`${action}: the backup storage's path does not exist on this host (not mounted?)`);
    case 'ENOTDIR':
      return new DriverError(`${action}: a path of the backup storage is not a folder on this host`);
    case 'ELINK':
      return new DriverError(`${action}: the backup's folder is reached through a symbolic link; refused`);
    case 'EMISMATCH':
      return new DriverError(`${action}: the backup storage returned other data than was written to it`);
    default:
      return fsFailure(action, { code }, 'backup storage');
  }
}
