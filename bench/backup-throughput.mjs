// npm run bench:backup — throughput of the agent's backups (QemuImgDriver.createBackup / restoreBackup, which write
// and verify through QemuImgBackups) on one host: a 1 GiB qcow2 volume with 200 MiB written (8 pattern extents
// spread over the image), backed up to a secondary storage on the same disk, per compression NONE, ZSTD, GZIP,
// each beside the bare `qemu-img convert -O qcow2` with the same options (`-c -o compression_type=zstd|zlib`) on
// the same image in the same run. Then a restore of each backup into a new volume, beside a bare `qemu-img convert`
// of the backup file back to a plain qcow2; then, after 10 MiB more written, an incremental per compression (its
// parent: that compression's first full) and the restore of its chain. Prints, RUNS times each (medians, with
// min–max in ms): MiB/s of the 200 MiB of data and of the 1 GiB virtual size, the ratio driver / bare convert, the
// backup files' sizes, and what the driver adds on top of the convert, timed alone on the bare copy: fsync of the
// file and its sha256 (a restore hashes the backup file first and fsyncs the new volume). The page cache is warm
// (the source is read once before); pattern data compresses far better than a guest's would.
// It fails when a backup file fails `qemu-img check` or a restored volume (or a bare copy) differs from its source
// (`qemu-img compare`). Needs qemu-utils and a build (npx tsc -b).
// Usage: [RUNS=3] npm run bench:backup
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { backupFolder } from '@snapdeck/contracts';
import { fileSha256 } from '../apps/agent/dist/drivers/backups/backup-files.js';
import { compressionArgs } from '../apps/agent/dist/drivers/backups/backup-input.js';
import { QemuImgDriver } from '../apps/agent/dist/drivers/qemu-img/qemu-img.driver.js';
import { syncPath } from '../apps/agent/dist/drivers/qemu-img/sync-path.js';

const RUNS = Number(process.env.RUNS ?? 3);
const COMPRESSIONS = ['NONE', 'ZSTD', 'GZIP'];
const WRITTEN_MIB = 200;
const EXTENTS = 8; // of WRITTEN_MIB / EXTENTS each, one every 128 MiB
const MORE_MIB = 10; // written before the incrementals, at the end of the image (no extent is there)
const VIRTUAL_MIB = 1024;
const MIB = 2 ** 20;
const STORAGE = { root: 'secondary', path: 'backups' };

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'snapdeck-bench-backup-')));
const bare = join(dir, 'bare');
mkdirSync(bare);
const secondaryDir = join(dir, 'secondary');
const driver = new QemuImgDriver({ storageDir: join(dir, 'primary'), secondaryDir });
const organizationId = randomUUID();
const instanceId = randomUUID();
const volumeId = randomUUID();
const source = driver.volumePath(volumeId);

const qemuImg = (...args) => execFileSync('qemu-img', args, { encoding: 'utf8' });
/** Exits non-zero (and so throws) on any error or leak in the image, or its backing chain's. */
const check = (file) => qemuImg('check', '-q', '-f', 'qcow2', file);
/** Exits non-zero (and so throws) when the two images' guest-visible contents differ. */
const compare = (a, b) => qemuImg('compare', '-q', '-f', 'qcow2', '-F', 'qcow2', a, b);
const timedSync = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const timed = async (fn) => {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stats = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `${median(xs).toFixed(0)} ms (${sorted[0].toFixed(0)}–${sorted[sorted.length - 1].toFixed(0)})`;
};
const rate = (mib, xs) => `${(mib / (median(xs) / 1000)).toFixed(0)}`;
const sizeMiB = (bytes) => `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 2 : 1)} MiB`;
const row = (label, xs, mib) =>
  `${label.padEnd(26)}${stats(xs).padEnd(24)}${rate(mib, xs).padStart(6)} MiB/s data ${rate(VIRTUAL_MIB, xs).padStart(6)} MiB/s virtual`;

function backupPayload(compression, parent) {
  const backupId = randomUUID();
  return {
    backupId,
    storage: STORAGE,
    folder: backupFolder(organizationId, backupId),
    organizationId,
    instanceId,
    instanceName: 'bench-1',
    mode: 'STOP',
    compression,
    quiesce: false,
    volumes: [{ volumeId, name: 'ROOT-1', type: 'ROOT', sizeGiB: 1 }],
    ...(parent ? { parent: { backupId: parent.backupId, storage: parent.storage, folder: parent.folder } } : {}),
    probeTimeoutSeconds: 10,
  };
}

const location = ({ backupId, storage, folder }) => ({ backupId, storage, folder });
const backupFile = (payload) => join(secondaryDir, STORAGE.path, payload.folder, `${volumeId}.qcow2`);

/** Restores `chain` (the restored backup first) into a new volume, compares it with the source, removes it. */
async function restoreAndCompare(chain) {
  const target = randomUUID();
  const { ms } = await timed(() =>
    driver.restoreBackup({
      chain: chain.map(location),
      instanceId: randomUUID(),
      targets: [{ sourceVolumeId: volumeId, volumeId: target, sizeGiB: 1 }],
      overwrite: false,
      probeTimeoutSeconds: 10,
    }),
  );
  compare(source, driver.volumePath(target));
  check(driver.volumePath(target));
  await driver.destroyVolume(target);
  return ms;
}

try {
  await driver.init();
  await driver.createVolume(volumeId, 1);
  const chunk = WRITTEN_MIB / EXTENTS;
  const writes = Array.from({ length: EXTENTS }, (_, i) => ['-c', `write -P 0x${51 + i} ${i * 128}M ${chunk}M`]);
  execFileSync('qemu-io', ['-f', 'qcow2', ...writes.flat(), source], { stdio: 'ignore' });
  await fileSha256(source); // read once: the source is in the page cache for every measurement
  const allocated = JSON.parse(qemuImg('info', '--output=json', source))['actual-size'];

  const m = Object.fromEntries(
    COMPRESSIONS.map((c) => [
      c,
      { backup: [], convert: [], fsync: [], sha256: [], restore: [], unconvert: [], incr: [], chainRestore: [] },
    ]),
  );
  const fulls = {};
  const sizes = {};
  const repeat = [];

  // Backups: the bare convert, then (its copy fsynced, so no write-back is left for the driver) the driver's.
  for (let run = 0; run < RUNS; run++) {
    for (const c of COMPRESSIONS) {
      const copy = join(bare, `${c}-${run}.qcow2`);
      m[c].convert.push(
        timedSync(() => qemuImg('convert', '-f', 'qcow2', '-O', 'qcow2', ...compressionArgs(c), source, copy)),
      );
      m[c].fsync.push((await timed(() => syncPath(copy))).ms);
      m[c].sha256.push((await timed(() => fileSha256(copy))).ms);
      compare(source, copy);
      sizes[c] ??= { convert: statSync(copy).size };
      rmSync(copy);

      const payload = backupPayload(c);
      const { ms, value } = await timed(() => driver.createBackup(payload));
      if (value.alreadyExisted) throw new Error(`backup ${payload.backupId} was not written: it existed already`);
      check(backupFile(payload));
      m[c].backup.push(ms);
      sizes[c].file ??= value.manifest.volumes[0].sizeBytes;
      sizes[c].folder ??= value.sizeBytes;
      (fulls[c] ??= []).push(payload);
    }
  }

  // A repeated delivery of a complete backup: the storage probe, the manifest read, the folder's size; no copy.
  for (let run = 0; run < RUNS; run++) {
    const { ms, value } = await timed(() => driver.createBackup(fulls.NONE[0]));
    if (!value.alreadyExisted) throw new Error('a repeated delivery wrote its backup again');
    repeat.push(ms);
  }

  // Restores of each full into a new volume, beside the bare convert of its file back to a plain qcow2.
  for (let run = 0; run < RUNS; run++) {
    for (const c of COMPRESSIONS) {
      const payload = fulls[c][run];
      const plain = join(bare, `restored-${c}-${run}.qcow2`);
      m[c].unconvert.push(
        timedSync(() => qemuImg('convert', '-f', 'qcow2', '-O', 'qcow2', backupFile(payload), plain)),
      );
      await syncPath(plain); // not timed: no write-back left for the driver's restore
      compare(source, plain);
      rmSync(plain);
      m[c].restore.push(await restoreAndCompare([payload]));
    }
  }

  // 10 MiB more, then incrementals on each compression's first full, and the restore of that chain.
  const moreAt = VIRTUAL_MIB - MORE_MIB;
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -P 0x77 ${moreAt}M ${MORE_MIB}M`, source], { stdio: 'ignore' });
  for (let run = 0; run < RUNS; run++) {
    for (const c of COMPRESSIONS) {
      const parent = fulls[c][0];
      const payload = backupPayload(c, parent);
      const { ms, value } = await timed(() => driver.createBackup(payload));
      if (!value.manifest.incremental) throw new Error(`backup ${payload.backupId} was written full, not incremental`);
      check(backupFile(payload));
      m[c].incr.push(ms);
      sizes[c].incr ??= value.manifest.volumes[0].sizeBytes;
      m[c].chainRestore.push(await restoreAndCompare([payload, parent]));
    }
  }

  const version = qemuImg('--version').split('\n')[0];
  console.log(`backup throughput bench — ${version}, ${RUNS} runs each; medians (min–max)`);
  console.log(
    `volume: 1 GiB qcow2, ${WRITTEN_MIB} MiB written in ${EXTENTS} extents, ${sizeMiB(allocated)} allocated; ` +
      `backups to secondary storage on the same disk`,
  );
  console.log(`fixed cost of a driver call (a repeated delivery: storage probe, manifest read): ${stats(repeat)}`);
  for (const c of COMPRESSIONS) {
    const x = m[c];
    const ratio = (a, b) => (median(a) / median(b)).toFixed(2);
    console.log(`\n${c}`);
    console.log(row('  backup, driver', x.backup, WRITTEN_MIB));
    console.log(row('  backup, bare convert', x.convert, WRITTEN_MIB));
    console.log(`    ratio driver / convert ${ratio(x.backup, x.convert)}`);
    console.log(`    on the bare copy: fsync ${stats(x.fsync)}, sha256 ${stats(x.sha256)}`);
    console.log(
      `    file ${sizeMiB(sizes[c].file)} (the backup's folder ${sizeMiB(sizes[c].folder)}), bare convert ${sizeMiB(sizes[c].convert)}`,
    );
    console.log(row('  restore, driver', x.restore, WRITTEN_MIB));
    console.log(row('  restore, bare convert', x.unconvert, WRITTEN_MIB));
    console.log(`    ratio driver / convert ${ratio(x.restore, x.unconvert)}`);
    console.log(
      `${'  incremental, +10 MiB'.padEnd(26)}${stats(x.incr).padEnd(24)}${rate(MORE_MIB, x.incr).padStart(6)} MiB/s of the 10 MiB; ` +
        `file ${sizeMiB(sizes[c].incr)}`,
    );
    console.log(row('  restore of full + incr.', x.chainRestore, WRITTEN_MIB + MORE_MIB));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
