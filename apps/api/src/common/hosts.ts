import { HostState, preconditionFailed } from '@snapdeck/domain';
import type { HostEntity } from '@snapdeck/persistence';

/** New work for a host that stopped sending heartbeats fails at once instead of waiting in its queue. */
export function assertHostUp(host: HostEntity | null, what: string): HostEntity {
  if (!host) throw preconditionFailed(`The host of this ${what} is no longer registered`);
  if (host.state !== HostState.UP) {
    throw preconditionFailed(
      `Host ${host.name} is ${host.state}: no heartbeat since ${host.lastHeartbeatAt.toISOString()}`,
    );
  }
  return host;
}
