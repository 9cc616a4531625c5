import { open, stat } from 'node:fs/promises';

/**
 * Damages a qcow2 image's refcounts directly (docs/interop/qcow2.txt), the way a crash mid `qemu-img snapshot`
 * leaves them, so that tests get exactly the damage `qemu-img check` must find. The first refcount block covers
 * the first clusters of any small image (16-bit refcounts, the default `refcount_order` 4).
 */
async function refcountBlock(path: string): Promise<{ block: number; clusterBits: number }> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(104);
    await handle.read(header, 0, header.length, 0);
    const clusterBits = header.readUInt32BE(20);
    if (header.readUInt32BE(96) !== 4) throw new Error('only 16-bit refcounts are crafted here');
    const table = Number(header.readBigUInt64BE(48));
    const entry = Buffer.alloc(8);
    await handle.read(entry, 0, 8, table);
    return { block: Number(entry.readBigUInt64BE(0)), clusterBits };
  } finally {
    await handle.close();
  }
}

async function setRefcount(path: string, cluster: number, refcount: number): Promise<void> {
  const { block } = await refcountBlock(path);
  const handle = await open(path, 'r+');
  try {
    const value = Buffer.alloc(2);
    value.writeUInt16BE(refcount);
    await handle.write(value, 0, 2, block + cluster * 2);
  } finally {
    await handle.close();
  }
}

/** Leaked clusters: `count` clusters past the image's end get refcount 1 while nothing references them. */
export async function leakClusters(path: string, count: number): Promise<void> {
  const { clusterBits } = await refcountBlock(path);
  const clusterSize = 2 ** clusterBits;
  const first = Math.ceil((await stat(path)).size / clusterSize);
  const handle = await open(path, 'r+');
  try {
    await handle.truncate((first + count + 1) * clusterSize);
  } finally {
    await handle.close();
  }
  for (let i = 0; i < count; i++) await setRefcount(path, first + i, 1);
}

/**
 * A corruption: a cluster in use (the header's) gets refcount 0, so further writes could overwrite it. Counted
 * fewer times than referenced, as a snapshot create cut short leaves every cluster: `check -r all` mends it.
 */
export async function corruptRefcount(path: string): Promise<void> {
  await setRefcount(path, 0, 0);
}

/** qcow2's corrupt bit (incompatible feature bit 1 of a version 3 header), as QEMU sets it on finding a corruption. */
export async function setCorruptBit(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const features = Buffer.alloc(8);
    await handle.read(features, 0, 8, 72);
    features.writeBigUInt64BE(features.readBigUInt64BE(0) | 2n);
    await handle.write(features, 0, 8, 72);
  } finally {
    await handle.close();
  }
}

/**
 * What a `qemu-img snapshot -c` killed after its refcount increments reached the file but before its L2 tables
 * did leaves: every data cluster of the first L2 table counted twice while still flagged COPIED (referenced
 * once). `qemu-img check` reports each as an OFLAG_COPIED corruption, and leaks.
 */
export async function countDataClustersTwice(path: string): Promise<number> {
  const { clusterBits } = await refcountBlock(path);
  const clusterSize = 2 ** clusterBits;
  const offsetMask = (1n << 56n) - 1n - BigInt(clusterSize - 1);
  const clusters: number[] = [];
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(48);
    await handle.read(header, 0, header.length, 0);
    const l1 = Buffer.alloc(8);
    await handle.read(l1, 0, 8, Number(header.readBigUInt64BE(40)));
    const l2 = Buffer.alloc(clusterSize);
    await handle.read(l2, 0, clusterSize, Number(l1.readBigUInt64BE(0) & offsetMask));
    for (let i = 0; i < clusterSize / 8; i++) {
      const offset = l2.readBigUInt64BE(i * 8) & offsetMask;
      if (offset !== 0n) clusters.push(Number(offset) / clusterSize);
    }
  } finally {
    await handle.close();
  }
  for (const cluster of clusters) await setRefcount(path, cluster, 2);
  return clusters.length;
}

/** A corruption no count can mend: the first L1 entry points at an L2 table that is not cluster aligned. */
export async function misplaceL2Table(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const header = Buffer.alloc(48);
    await handle.read(header, 0, header.length, 0);
    const entry = Buffer.alloc(8);
    entry.writeBigUInt64BE((1n << 63n) | 0x10200n);
    await handle.write(entry, 0, 8, Number(header.readBigUInt64BE(40)));
  } finally {
    await handle.close();
  }
}
