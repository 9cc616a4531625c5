// node bench/live-snapshot.mjs — live volume snapshots of a running libvirt domain (LibvirtHypervisor): a
// 1 GiB qcow2 volume with 200 MiB written by the "guest" (HMP qemu-io), then SNAPSHOTS internal snapshots
// through QMP blockdev-snapshot-internal-sync. Prints, in ms (medians, with min–max):
//   - a no-op QMP command (query-status) inside virsh (`virsh -t`) and for the whole virsh process;
//   - the snapshot command inside virsh: the upper bound of the guest's I/O pause (the vCPUs keep running);
//   - the whole liveSnapshots.create call (state, disks, command, read-back of the tag);
//   - an instance snapshot with memory (savevm: the vCPUs are stopped for all of it) and its revert;
//   - for comparison, the offline `qemu-img snapshot -c` of the same image once the domain is stopped.
// It fails when a snapshot was not taken or the image is not clean afterwards (qemu-img check). The correctness
// of live snapshots is proven by apps/agent/src/drivers/libvirt/libvirt-hypervisor.int-spec.ts; this only measures.
// Needs a libvirtd on qemu:///system (bash scripts/ensure-libvirt.sh) and a build (npx tsc -b).
// Usage: [SNAPSHOTS=10] [DOMAIN_TYPE=qemu|kvm|auto] [WRITTEN_MIB=200] node bench/live-snapshot.mjs
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LibvirtHypervisor } from '../apps/agent/dist/drivers/libvirt/libvirt-hypervisor.js';

const COUNT = Number(process.env.SNAPSHOTS ?? 10);
const DOMAIN_TYPE = process.env.DOMAIN_TYPE ?? 'qemu';
const WRITTEN_MIB = Number(process.env.WRITTEN_MIB ?? 200);
const URI = 'qemu:///system';

const dir = mkdtempSync(join(tmpdir(), 'snapdeck-bench-libvirt-'));
chmodSync(dir, 0o755); // libvirt-qemu must be able to enter it
const volume = join(dir, 'root.qcow2');
execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', volume, '1G']);

const hv = new LibvirtHypervisor({ uri: URI, domainType: DOMAIN_TYPE });
const instanceId = randomUUID();
const domain = hv.domains.domainName(instanceId);

const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `${median.toFixed(1)} ms (${sorted[0].toFixed(1)}–${sorted[sorted.length - 1].toFixed(1)})`;
};

try {
  const { domainType, version } = await hv.domains.init();
  const t0 = performance.now();
  await hv.domains.start(instanceId, [volume]);
  const startMs = performance.now() - t0;
  await hv.virsh.hmp(
    domain,
    `qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend "write -P 0x5a 0 ${WRITTEN_MIB}M"`,
  );
  const allocated = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', volume], { encoding: 'utf8' }))[
    'actual-size'
  ];

  const noOpInside = [];
  const noOpProcess = [];
  for (let i = 0; i < COUNT; i++) {
    const t = performance.now();
    noOpInside.push((await hv.virsh.qmpTimed(domain, 'query-status')).commandMs);
    noOpProcess.push(performance.now() - t);
  }
  const pause = [];
  const total = [];
  for (let i = 0; i < COUNT; i++) {
    const result = await hv.liveSnapshots.create(instanceId, 0, randomUUID());
    if (result.alreadyExisted) throw new Error(`snapshot ${i + 1} was not taken: its tag existed already`);
    pause.push(result.guestPauseMs);
    total.push(result.durationMs);
  }
  const point = randomUUID();
  const created = await hv.instanceSnapshots.create(instanceId, point, { withMemory: true });
  const t1 = performance.now();
  await hv.instanceSnapshots.revert(instanceId, point, { state: 'running' });
  const revertMs = performance.now() - t1;
  await hv.instanceSnapshots.delete(instanceId, point);
  await hv.domains.stop(instanceId, { timeoutMs: 500 });
  execFileSync('qemu-img', ['check', '-q', '-f', 'qcow2', volume]); // throws on any error or leak in the image

  const offline = [];
  for (let i = 0; i < COUNT; i++) {
    const t = performance.now();
    execFileSync('qemu-img', ['snapshot', '-c', randomUUID(), volume]);
    offline.push(performance.now() - t);
  }

  console.log(`libvirt live snapshot bench — ${version}, domain type ${domainType}, ${COUNT} runs each`);
  console.log(`volume: 1 GiB qcow2, ${WRITTEN_MIB} MiB written, ${Math.round(allocated / 2 ** 20)} MiB allocated`);
  console.log(`domain start (define + start):               ${startMs.toFixed(0)} ms`);
  console.log(`no-op QMP command, inside virsh:             ${stats(noOpInside)}`);
  console.log(`no-op QMP command, whole virsh process:      ${stats(noOpProcess)}`);
  console.log(`live snapshot command, inside virsh (pause): ${stats(pause)}`);
  console.log(`liveSnapshots.create, whole call:            ${stats(total)}`);
  console.log(`instance snapshot with memory (savevm):      ${created.guestPauseMs.toFixed(1)} ms inside virsh`);
  console.log(`revert to it, --running:                     ${revertMs.toFixed(0)} ms`);
  console.log(`offline qemu-img snapshot -c, same image:    ${stats(offline)}`);
} finally {
  try {
    execFileSync('virsh', ['-c', URI, 'destroy', domain], { stdio: 'ignore' });
  } catch {
    // not running
  }
  try {
    execFileSync('virsh', ['-c', URI, 'undefine', domain, '--snapshots-metadata'], { stdio: 'ignore' });
  } catch {
    // never defined
  }
  rmSync(dir, { recursive: true, force: true });
}
