// npm run bench:recovery-point — a recovery point with memory (libvirt savevm: the vCPUs are stopped for all of
// it) of a running guest of MEMORY_SIZES MiB each (default 256 and 2048), against a disk-only point of the same
// guest in the same run (QMP transaction of internal snapshots: the vCPUs keep running), POINTS of each,
// interleaved. Prints per size the medians (min–max) of the guest's pause and of the whole call, the saved VM
// state's size (`qemu-img snapshot -l`), and the ratio memory ÷ disk-only.
// The guests run no operating system (the firmware only), so their memory is mostly untouched pages, which
// savevm writes compactly: the figures are a floor, not what a busy 2 GiB guest costs.
// Needs a libvirtd on qemu:///system (bash scripts/ensure-libvirt.sh) and a build (npx tsc -b).
// Usage: [POINTS=5] [MEMORY_SIZES=256,2048] [DOMAIN_TYPE=qemu|kvm|auto] npm run bench:recovery-point
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibvirtHypervisor } from '../apps/agent/dist/drivers/libvirt/libvirt-hypervisor.js';

const POINTS = Number(process.env.POINTS ?? 5);
const SIZES = (process.env.MEMORY_SIZES ?? '256,2048').split(',').map(Number);
const DOMAIN_TYPE = process.env.DOMAIN_TYPE ?? 'qemu';
const URI = 'qemu:///system';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const stats = (values) =>
  `${median(values).toFixed(0)} ms (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;

/** The VM SIZE column of the point's row in `qemu-img snapshot -l`, in MiB. */
function vmStateMiB(volume, tag) {
  const listing = execFileSync('qemu-img', ['snapshot', '-l', '-U', volume], { encoding: 'utf8' });
  const row = listing.split('\n').find((line) => line.trim().split(/\s+/)[1] === tag);
  const [, amount, unit] = /\s(\d+(?:\.\d+)?) ?([KMG]i?B|B)\s/.exec(row ?? '') ?? [];
  if (!amount) throw new Error(`no VM SIZE for ${tag} in:\n${listing}`);
  const scale = { B: 1 / 2 ** 20, KiB: 1 / 1024, MiB: 1, GiB: 1024 }[unit] ?? NaN;
  return Number(amount) * scale;
}

const hv = new LibvirtHypervisor({ uri: URI, domainType: DOMAIN_TYPE });
const dir = mkdtempSync(join(tmpdir(), 'snapdeck-bench-points-'));
chmodSync(dir, 0o755); // libvirt-qemu must be able to enter it
const domains = [];

try {
  const { domainType, version } = await hv.domains.init();
  console.log(`recovery points with memory — ${version}, domain type ${domainType}, ${POINTS} of each kind per size`);
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const memoryMiB of SIZES) {
    const instanceId = randomUUID();
    const volume = join(dir, `${instanceId}.qcow2`);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', volume, '1G']);
    domains.push(hv.domains.domainName(instanceId));
    await hv.domains.start(instanceId, [volume], { cpuCount: 1, memoryMiB });
    const withMemory = { pause: [], total: [], stateMiB: [] };
    const diskOnly = { pause: [], total: [] };
    for (let i = 0; i < POINTS; i++) {
      const memoryPoint = randomUUID();
      const m = await hv.instanceSnapshots.create(instanceId, memoryPoint, { withMemory: true });
      withMemory.pause.push(m.guestPauseMs);
      withMemory.total.push(m.durationMs);
      withMemory.stateMiB.push(vmStateMiB(volume, memoryPoint));
      await hv.instanceSnapshots.delete(instanceId, memoryPoint);
      const diskPoint = randomUUID();
      const d = await hv.instanceSnapshots.create(instanceId, diskPoint, { withMemory: false });
      diskOnly.pause.push(d.guestPauseMs);
      diskOnly.total.push(d.durationMs);
      await hv.instanceSnapshots.delete(instanceId, diskPoint);
    }
    await hv.domains.stop(instanceId, { timeoutMs: 500 });
    execFileSync('qemu-img', ['check', '-q', '-f', 'qcow2', volume]); // throws on any error or leak
    console.log(`guest of ${memoryMiB} MiB:`);
    console.log(
      `  with memory: pause ${stats(withMemory.pause)}, whole call ${stats(withMemory.total)}, ` +
        `VM state ${median(withMemory.stateMiB).toFixed(1)} MiB`,
    );
    console.log(`  disk only:   pause ${stats(diskOnly.pause)}, whole call ${stats(diskOnly.total)}`);
    const ratio = (a, b) => (median(a) / median(b)).toFixed(2);
    console.log(
      `  memory ÷ disk only (medians): pause ${ratio(withMemory.pause, diskOnly.pause)}, ` +
        `whole call ${ratio(withMemory.total, diskOnly.total)}`,
    );
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  for (const domain of domains) {
    for (const args of [
      ['destroy', domain],
      ['undefine', domain, '--snapshots-metadata'],
    ]) {
      try {
        execFileSync('virsh', ['-c', URI, ...args], { stdio: 'ignore' });
      } catch {
        // not running, or never defined
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
