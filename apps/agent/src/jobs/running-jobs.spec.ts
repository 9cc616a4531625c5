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
