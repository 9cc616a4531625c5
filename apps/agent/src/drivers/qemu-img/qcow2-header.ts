import { open } from 'node:fs/promises';

/** "QFI\xfb": the first four bytes of every qcow2 image. */
const QCOW2_MAGIC = 0x514649fb;
/** Incompatible feature bit 2 of a version 3 header: the guest data lives in an external data file. */
const EXTERNAL_DATA_FILE = 1n << 2n;
const V2_HEADER_BYTES = 72;
const V3_HEADER_BYTES = 104;

/** Bytes to read from the start of a file to parse its header. */
export const QCOW2_HEADER_READ_BYTES = 4096;

/** The first QCOW2_HEADER_READ_BYTES of a file (fewer for a shorter one); rejects with the file system's error. */
export async function readHeaderBytes(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(QCOW2_HEADER_READ_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export interface Qcow2Header {
  version: 2 | 3;
  /** The header names a backing file (its offset is not zero). */
  hasBackingFile: boolean;
  /** The external-data-file incompatible feature is set. */
  hasExternalDataFile: boolean;
}

/**
 * Reads the fixed part of a qcow2 header (docs/interop/qcow2.txt in QEMU): magic, version, backing file offset
 * and, from version 3, the incompatible features. Returns null for anything that is not a qcow2 image. This is
 * checked before qemu-img ever opens an image from outside, so that a crafted header is refused by plain code
 * that follows no file name in it; `qemu-img info` then checks the same image again.
 */
export function parseQcow2Header(bytes: Uint8Array): Qcow2Header | null {
  if (bytes.length < V2_HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== QCOW2_MAGIC) return null;
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) return null;
  const hasBackingFile = view.getBigUint64(8) !== 0n;
  if (version === 2) return { version, hasBackingFile, hasExternalDataFile: false };
  if (bytes.length < V3_HEADER_BYTES) return null;
  const incompatible = view.getBigUint64(72);
  return { version, hasBackingFile, hasExternalDataFile: (incompatible & EXTERNAL_DATA_FILE) !== 0n };
}
