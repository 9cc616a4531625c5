import { diskOrder } from './disks.js';
import { VolumeType } from './enums.js';

const volume = (id: string, name: string, type = VolumeType.DATADISK) => ({ id, name, type });

describe('diskOrder', () => {
  it('puts ROOT first, then the data disks by name with numbers compared as numbers', () => {
    const ordered = diskOrder([
      volume('a', 'DATA-10'),
      volume('b', 'DATA-2'),
      volume('c', 'ROOT', VolumeType.ROOT),
      volume('d', 'DATA-1'),
      volume('e', 'logs'),
    ]);
    expect(ordered.map((v) => v.name)).toEqual(['ROOT', 'DATA-1', 'DATA-2', 'DATA-10', 'logs']);
  });

  it('breaks a tie of names by id and leaves its input alone', () => {
    const input = [volume('z', 'DATA-1'), volume('y', 'DATA-1')];
    expect(diskOrder(input).map((v) => v.id)).toEqual(['y', 'z']);
    expect(input.map((v) => v.id)).toEqual(['z', 'y']);
  });
});
