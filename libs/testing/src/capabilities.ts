import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a suite may need beyond PostgreSQL (always there: configured, local or embedded). */
export type Capability = 'redis' | 'qemu-img' | 'libvirt';

export interface CapabilityStatus {
  available: boolean;
  /** What the probe saw: a version, or why it is missing. */
  detail: string;
}

const LABELS: Record<Capability, string> = { redis: 'Redis', 'qemu-img': 'qemu-img', libvirt: 'libvirt' };

/** The answers of global setup's probes (libs/testing/capabilities.mjs), passed in SNAPDECK_TEST_CAPABILITIES. */
export function testCapabilities(): Record<Capability, CapabilityStatus> {
  const json = process.env.SNAPDECK_TEST_CAPABILITIES;
  if (!json) throw new Error('SNAPDECK_TEST_CAPABILITIES is not set: run tests through jest (global setup)');
  return JSON.parse(json) as Record<Capability, CapabilityStatus>;
}

function isCI(): boolean {
  const value = (process.env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

/**
 * `describe` for a suite that needs Redis, qemu-img or libvirt. When one is missing the suite is skipped and the
 * reason recorded for the summary at the end of the run; under CI (`CI=true`) the file fails instead, since
 * nothing may be skipped there. Keep the list literal: global setup reads it from the source to fail a CI run
 * before it starts.
 */
export function describeWith(needs: Capability[], name: string, fn: () => void): void {
  const capabilities = testCapabilities();
  const missing = needs
    .filter((capability) => !capabilities[capability]?.available)
    .map((capability) => ({ capability, detail: capabilities[capability]?.detail ?? 'not probed' }));
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const why = missing.map((m) => `${LABELS[m.capability]} (${m.detail})`).join(', ');
  if (isCI()) {
    throw new Error(`CI=true but "${name}" needs ${why}: under CI nothing may be skipped`);
  }
  const title = `${name} [skipped: needs ${missing.map((m) => LABELS[m.capability]).join(', ')}]`;
  const runDir = process.env.SNAPDECK_TEST_RUN_DIR;
  if (runDir) {
    const record = { file: expect.getState().testPath, name, title, missing };
    appendFileSync(join(runDir, 'skipped.jsonl'), `${JSON.stringify(record)}\n`);
  }
  describe.skip(title, fn);
}
