import type { NotificationPayload } from '@snapdeck/domain';
import { renderNotificationEmail } from './notification-email.js';

describe('renderNotificationEmail', () => {
  const payload: NotificationPayload = {
    id: '0190a000-0000-7000-8000-000000000001',
    type: 'policy.run.failed',
    time: '2026-12-02T03:00:00.000Z',
    organizationId: '0190a000-0000-7000-8000-000000000002',
    data: {
      actor: 'system:scheduler',
      resource: { type: 'Volume', id: 'v1', name: 'web-1-root' },
      volume: { id: 'v1', name: 'web-1-root' },
      instance: { id: 'i1', name: 'web-1' },
      policy: { id: 'p1', name: 'nightly' },
      scheduledAt: '2026-12-02T03:00:00.000Z',
      status: 'failed',
      error: "The organization's snapshots limit is 2",
      message: 'Policy run failed',
      details: {},
    },
  };

  it('says what happened, to what (names), when, by whom and the error', () => {
    const { subject, text } = renderNotificationEmail(payload);
    expect(subject).toBe('[Snapdeck] Scheduled snapshot failed: web-1-root');
    expect(text).toContain('Resource:     Volume web-1-root (v1)');
    expect(text).toContain('Instance:     web-1 (i1)');
    expect(text).toContain('Policy:       nightly (p1)');
    expect(text).toContain('Scheduled at: 2026-12-02T03:00:00.000Z');
    expect(text).toContain("Error:        The organization's snapshots limit is 2");
    expect(text).toContain('By:           system:scheduler');
    expect(text).not.toContain('Volume:       ');
  });
});
