import { RunningJobs } from './running-jobs.js';

describe('RunningJobs', () => {
  it('lists a job while any delivery of it runs', () => {
    const running = new RunningJobs();
    running.add('a');
    running.add('a');
    running.add('b');
    expect(running.list().sort()).toEqual(['a', 'b']);
    running.remove('a');
    expect(running.list().sort()).toEqual(['a', 'b']);
    running.remove('a');
    running.remove('b');
    expect(running.list()).toEqual([]);
  });
});

describe('RunningJobs.held', () => {
  it('names each running delivery with its attempt, once, while any copy of it runs', () => {
    const running = new RunningJobs();
    running.add('a', 1);
    running.add('a', 2);
    running.add('a', 2);
    expect(running.held()).toEqual([
      { jobId: 'a', attempt: 1 },
      { jobId: 'a', attempt: 2 },
    ]);
    expect(running.list()).toEqual(['a']);
    running.remove('a', 1);
    running.remove('a', 2);
    expect(running.held()).toEqual([{ jobId: 'a', attempt: 2 }]);
    running.remove('a', 2);
    expect(running.held()).toEqual([]);
  });
});
