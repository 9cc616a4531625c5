import { KeyedMutex } from './keyed-mutex.js';

/** A task that records when it runs and finishes only when released by the test. */
function gate(log: string[], name: string) {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    task: async () => {
      log.push(`${name} start`);
      await opened;
      log.push(`${name} end`);
      return name;
    },
    open: () => open(),
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('runs tasks of one key one after the other, in arrival order', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const first = mutex.run('vol', a.task);
    const second = mutex.run('vol', b.task);
    await settle();
    expect(log).toEqual(['a start']);
    a.open();
    await expect(first).resolves.toBe('a');
    await settle();
    expect(log).toEqual(['a start', 'a end', 'b start']);
    b.open();
    await expect(second).resolves.toBe('b');
    expect(mutex.busyKeys).toBe(0);
  });

  it('runs tasks of different keys in parallel', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const both = Promise.all([mutex.run('one', a.task), mutex.run('two', b.task)]);
    await settle();
    expect(log).toEqual(['a start', 'b start']);
    a.open();
    b.open();
    await both;
  });

  it('releases the key when a task fails', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('vol', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run('vol', () => Promise.resolve('next'))).resolves.toBe('next');
    expect(mutex.busyKeys).toBe(0);
  });

  it('runAll holds every key, taking them in sorted order so two callers of one pair never deadlock', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const c = gate(log, 'c');
    const first = mutex.runAll(['y', 'x'], a.task);
    await settle();
    const second = mutex.runAll(['x', 'y'], b.task);
    const onY = mutex.run('y', c.task);
    await settle();
    expect(log).toEqual(['a start']);
    a.open();
    await expect(first).resolves.toBe('a');
    await settle();
    // b was queued on x first, and takes y after it; c waits for y behind b's queue position.
    expect(log).toEqual(['a start', 'a end', 'c start']);
    c.open();
    await expect(onY).resolves.toBe('c');
    await settle();
    expect(log).toEqual(['a start', 'a end', 'c start', 'c end', 'b start']);
    b.open();
    await expect(second).resolves.toBe('b');
    expect(mutex.busyKeys).toBe(0);
  });

  it('runAll with a repeated key takes it once', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.runAll(['v', 'v'], () => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(mutex.busyKeys).toBe(0);
  });
});
