// node bench/deploy-copy-vs-clone.mjs — what a deploy from a template costs on one host: a full copy
// (`qemu-img convert`, what the agent does) against a linked clone (`qemu-img create -b`, a new overlay that
// reads the template as its backing file). Template: 1 GiB qcow2 with 200 MiB written. Median of RUNS (5).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = Number(process.env.RUNS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'snapdeck-bench-deploy-'));
const template = join(dir, 'template.qcow2');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(args) {
  const start = performance.now();
  execFileSync('qemu-img', args, { stdio: 'ignore' });
  return performance.now() - start;
}

try {
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', template, '1G']);
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 200M', template], { stdio: 'ignore' });

  const copy = [];
  const clone = [];
  for (let i = 0; i < RUNS; i++) {
    const copyDst = join(dir, `copy-${i}.qcow2`);
    copy.push(timed(['convert', '-f', 'qcow2', '-O', 'qcow2', template, copyDst]));
    const cloneDst = join(dir, `clone-${i}.qcow2`);
    clone.push(timed(['create', '-q', '-f', 'qcow2', '-b', template, '-F', 'qcow2', cloneDst]));
  }
  const kib = (path) => Math.round(statSync(path).blocks / 2);
  const fmt = (xs) => `median ${median(xs).toFixed(1)} ms (runs: ${xs.map((x) => x.toFixed(1)).join(', ')})`;
  console.log(`template: 1 GiB qcow2, 200 MiB written (${kib(template)} KiB on disk); ${RUNS} runs each`);
  console.log(
    `(a) full copy   qemu-img convert -f qcow2 -O qcow2:        ${fmt(copy)}; ${kib(join(dir, 'copy-0.qcow2'))} KiB`,
  );
  console.log(
    `(b) linked clone qemu-img create -f qcow2 -b … -F qcow2:  ${fmt(clone)}; ${kib(join(dir, 'clone-0.qcow2'))} KiB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
