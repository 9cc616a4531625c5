import { parseQcow2Header } from './qcow2-header.js';

/** A header as qemu-img writes it, with the fields this parser reads set by the test. */
function header(options: { version?: number; backingOffset?: bigint; incompatible?: bigint; length?: number } = {}) {
  const bytes = new Uint8Array(options.length ?? 112);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x514649fb);
  view.setUint32(4, options.version ?? 3);
  view.setBigUint64(8, options.backingOffset ?? 0n);
  if (bytes.length >= 80) view.setBigUint64(72, options.incompatible ?? 0n);
  return bytes;
}

describe('parseQcow2Header', () => {
  it('reads a plain version 3 image', () => {
    expect(parseQcow2Header(header())).toEqual({ version: 3, hasBackingFile: false, hasExternalDataFile: false });
  });

  it('sees a backing file offset and the external data file feature', () => {
    expect(parseQcow2Header(header({ backingOffset: 0x1c8n }))).toMatchObject({ hasBackingFile: true });
    // Bit 0 (dirty) alone is not a data file; bit 2 is.
    expect(parseQcow2Header(header({ incompatible: 1n }))).toMatchObject({ hasExternalDataFile: false });
    expect(parseQcow2Header(header({ incompatible: 0b101n }))).toMatchObject({ hasExternalDataFile: true });
  });

  it('reads a version 2 image, which has no feature fields', () => {
    expect(parseQcow2Header(header({ version: 2, length: 72 }))).toEqual({
      version: 2,
      hasBackingFile: false,
      hasExternalDataFile: false,
    });
  });

  it('returns null for anything else: raw data, another format, an unknown version, a cut header', () => {
    expect(parseQcow2Header(new Uint8Array(4096))).toBeNull();
    expect(parseQcow2Header(new TextEncoder().encode('#!/bin/sh\n'.padEnd(200, ' ')))).toBeNull();
    expect(parseQcow2Header(header({ version: 4 }))).toBeNull();
    expect(parseQcow2Header(header({ version: 3, length: 80 }))).toBeNull();
    expect(parseQcow2Header(header().subarray(0, 40))).toBeNull();
  });

  it('reads a header that sits at an offset inside a larger buffer', () => {
    const big = new Uint8Array(300);
    big.set(header({ backingOffset: 5n }), 100);
    expect(parseQcow2Header(big.subarray(100))).toMatchObject({ hasBackingFile: true });
  });
});
