import { DriverError } from '../volume-driver.js';
import { parseQemuImgInfo } from './qemu-img-info.js';

// Trimmed output of `qemu-img info -f qcow2 --output=json` (qemu-utils 7.2).
const withSnapshots = JSON.stringify({
  snapshots: [
    {
      icount: 0,
      'vm-clock-nsec': 0,
      name: '5f0e5d3a-0000-4000-8000-000000000001',
      'date-sec': 1795316837,
      'date-nsec': 410038000,
      'vm-clock-sec': 0,
      id: '1',
      'vm-state-size': 0,
    },
  ],
  'virtual-size': 1073741824,
  filename: 'v.qcow2',
  format: 'qcow2',
  'actual-size': 217088,
});

describe('parseQemuImgInfo', () => {
  it('reads the format, the virtual size and each snapshot tag with its date', () => {
    expect(parseQemuImgInfo(withSnapshots)).toEqual({
      format: 'qcow2',
      virtualSizeBytes: 1073741824,
      snapshots: [
        { id: '1', tag: '5f0e5d3a-0000-4000-8000-000000000001', createdAt: new Date(1795316837410), vmStateBytes: 0 },
      ],
      backingFile: null,
      dataFile: null,
    });
  });

  it('reads an image without snapshots (qemu-img omits the key)', () => {
    const info = parseQemuImgInfo(JSON.stringify({ format: 'qcow2', 'virtual-size': 1 }));
    expect(info.snapshots).toEqual([]);
  });

  it('reads a backing file, from either key qemu-img prints', () => {
    const both = { format: 'qcow2', 'virtual-size': 1, 'backing-filename': 'b.qcow2', 'full-backing-filename': '/x/b' };
    expect(parseQemuImgInfo(JSON.stringify(both)).backingFile).toBe('b.qcow2');
    const fullOnly = { format: 'qcow2', 'virtual-size': 1, 'full-backing-filename': '/x/b.qcow2' };
    expect(parseQemuImgInfo(JSON.stringify(fullOnly)).backingFile).toBe('/x/b.qcow2');
  });

  it('reads an external data file from format-specific data (qemu-utils 7.2 layout)', () => {
    const info = {
      format: 'qcow2',
      'virtual-size': 1,
      'format-specific': { type: 'qcow2', data: { compat: '1.1', 'data-file': 'data.raw', 'data-file-raw': false } },
    };
    expect(parseQemuImgInfo(JSON.stringify(info))).toMatchObject({ backingFile: null, dataFile: 'data.raw' });
  });

  it('counts a backing file or data file of an unexpected type as present', () => {
    const odd = {
      format: 'qcow2',
      'virtual-size': 1,
      'backing-filename': { driver: 'file' },
      'format-specific': { data: { 'data-file': 7 } },
    };
    expect(parseQemuImgInfo(JSON.stringify(odd))).toMatchObject({ backingFile: '{"driver":"file"}', dataFile: '7' });
  });

  it('refuses output it does not understand with a driver error', () => {
    expect(() => parseQemuImgInfo('not json')).toThrow(DriverError);
    expect(() => parseQemuImgInfo('{}')).toThrow('did not report a format');
    expect(() => parseQemuImgInfo(JSON.stringify({ format: 'qcow2', 'virtual-size': 1, snapshots: {} }))).toThrow(
      'not a list',
    );
    expect(() =>
      parseQemuImgInfo(JSON.stringify({ format: 'qcow2', 'virtual-size': 1, snapshots: [{ id: '1' }] })),
    ).toThrow('without an id and a name');
  });
});
