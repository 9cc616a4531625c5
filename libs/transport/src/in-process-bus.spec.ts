import { BUS_DELIVERY_ATTEMPTS, InProcessBus, type BusDelivery } from './in-process-bus.js';
import {
  type AgentEvent,
  AgentEventKind,
  JobName,
  ResultKind,
  type JobEnvelope,
  type ResultMessage,
} from '@snapdeck/contracts';

function envelope(jobId: string, attempt = 1): JobEnvelope {
  return { jobId, attempt, name: JobName.CREATE_SNAPSHOT, payload: {} } as unknown as JobEnvelope;
}

/** A handler whose runs finish when the test says so. */
function gatedHandler() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const handler = (d: BusDelivery) =>
    new Promise<void>((resolve) => {
      started.push(d.id);
      gates.set(d.id, resolve);
    });
  return { started, handler, finish: (id: string) => gates.get(id)?.() };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('InProcessBus', () => {
  it('delivers to the host consumer, at most `concurrency` at a time, in order', async () => {
    const bus = new InProcessBus();
    const { started, handler, finish } = gatedHandler();
    bus.consume('kvm-a', 2, handler);
    for (const id of ['j1', 'j2', 'j3']) bus.send('kvm-a', envelope(id));
    await tick();
    expect(started).toEqual(['j1.1', 'j2.1']);
    expect(bus.pendingDeliveries('kvm-a')).toBe(3);
    finish('j1.1');
    await tick();
    expect(started).toEqual(['j1.1', 'j2.1', 'j3.1']);
    finish('j2.1');
    finish('j3.1');
    await tick();
    expect(bus.pendingDeliveries('kvm-a')).toBe(0);
  });

  it('keeps deliveries for a host until its agent consumes, and never gives them to another host', async () => {
    const bus = new InProcessBus();
    const other = gatedHandler();
    bus.consume('kvm-b', 4, other.handler);
    bus.send('kvm-a', envelope('j1'));
    await tick();
    expect(other.started).toEqual([]);
    expect(bus.pendingDeliveries('kvm-a')).toBe(1);
    const mine = gatedHandler();
    bus.consume('kvm-a', 4, mine.handler);
    await tick();
    expect(mine.started).toEqual(['j1.1']);
  });

  it('ignores a second send of one delivery id but queues a new attempt', async () => {
    const bus = new InProcessBus();
    bus.send('kvm-a', envelope('j1', 1));
    bus.send('kvm-a', envelope('j1', 1));
    bus.send('kvm-a', envelope('j1', 2));
    expect(bus.pendingDeliveries('kvm-a')).toBe(2);
  });

  it('withdraws waiting deliveries of a job, every attempt, and leaves a running one alone', async () => {
    const bus = new InProcessBus();
    const { started, handler, finish } = gatedHandler();
    bus.consume('kvm-a', 1, handler);
    bus.send('kvm-a', envelope('j1', 1));
    bus.send('kvm-a', envelope('j1', 2));
    bus.send('kvm-a', envelope('j2', 1));
    await tick();
    bus.withdraw('kvm-a', 'j1', 2);
    expect(bus.pendingDeliveries('kvm-a')).toBe(2); // j1.1 running, j2.1 waiting
    finish('j1.1');
    await tick();
    expect(started).toEqual(['j1.1', 'j2.1']);
  });

  it('retries a delivery whose handler rejects, up to the attempt limit', async () => {
    const bus = new InProcessBus({ retryDelayMs: 1 });
    let calls = 0;
    const consumer = bus.consume('kvm-a', 1, () => {
      calls++;
      return Promise.reject(new Error('results could not be stored'));
    });
    bus.send('kvm-a', envelope('j1'));
    while (bus.pendingDeliveries('kvm-a') > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await consumer.close();
    expect(calls).toBe(BUS_DELIVERY_ATTEMPTS);
    expect(bus.pendingDeliveries('kvm-a')).toBe(0);
  });

  it('stops retrying a failing delivery once its consumer closes', async () => {
    const bus = new InProcessBus({ retryDelayMs: 50 });
    let calls = 0;
    const consumer = bus.consume('kvm-a', 1, () => {
      calls++;
      return Promise.reject(new Error('the api is stopping'));
    });
    bus.send('kvm-a', envelope('j1'));
    await tick();
    await consumer.close();
    expect(calls).toBe(1);
  });

  it('close() stops taking deliveries and waits for the running ones', async () => {
    const bus = new InProcessBus();
    const { started, handler, finish } = gatedHandler();
    const consumer = bus.consume('kvm-a', 1, handler);
    bus.send('kvm-a', envelope('j1'));
    bus.send('kvm-a', envelope('j2'));
    await tick();
    let closed = false;
    const closing = consumer.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    finish('j1.1');
    await closing;
    expect(started).toEqual(['j1.1']);
    expect(bus.pendingDeliveries('kvm-a')).toBe(1); // j2 waits for the next consumer (after a restart: the reconciler)
  });

  it('refuses a second live consumer for one host', () => {
    const bus = new InProcessBus();
    bus.consume('kvm-a', 1, () => Promise.resolve());
    expect(() => bus.consume('kvm-a', 1, () => Promise.resolve())).toThrow(/already has a consumer/);
  });

  it('hands results and heartbeats to the api, and rejects them when no api listens', async () => {
    const bus = new InProcessBus();
    const result: ResultMessage = { kind: ResultKind.STARTED, jobId: 'j1', attempt: 1, hostName: 'kvm-a', at: 'now' };
    const beat: AgentEvent = {
      kind: AgentEventKind.HEARTBEAT,
      hostName: 'kvm-a',
      driver: 'simulator',
      agentVersion: '0',
      at: 'now',
    };
    await expect(bus.publishResult(result)).rejects.toThrow(/No api is listening/);
    await expect(bus.publishAgentEvent(beat)).rejects.toThrow(/No api is listening/);
    const seen: unknown[] = [];
    bus.onResult(async (m) => void seen.push(m));
    bus.onAgentEvent(async (e) => void seen.push(e));
    await bus.publishResult(result);
    await bus.publishAgentEvent(beat);
    expect(seen).toEqual([result, beat]);
    bus.onResult(() => Promise.reject(new Error('database down')));
    await expect(bus.publishResult(result)).rejects.toThrow('database down');
  });
});
