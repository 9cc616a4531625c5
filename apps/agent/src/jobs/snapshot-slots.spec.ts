import { Semaphore } from './snapshot-slots.js';

describe('Semaphore', () => {
  it('refuses a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow('at least 1');
    expect(() => new Semaphore(1.5)).toThrow('at least 1');
  });

  it('runs waiting tasks in arrival order, and frees the slot of a task that failed', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const failing = semaphore.run(async () => {
      order.push('a');
      throw new Error('a failed');
    });
    const b = semaphore.run(async () => {
      order.push('b');
    });
    const c = semaphore.run(async () => {
      order.push('c');
    });
    expect(semaphore.queued).toBe(2);
    await expect(failing).rejects.toThrow('a failed');
    await Promise.all([b, c]);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(semaphore.running).toBe(0);
    expect(semaphore.queued).toBe(0);
  });
});
