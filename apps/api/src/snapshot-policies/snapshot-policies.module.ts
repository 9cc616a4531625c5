import { Module } from '@nestjs/common';
import { POLICY_CLOCK, systemClock } from './clock.js';
import { SnapshotPolicyFieldResolver, VolumePoliciesResolver } from './policy-fields.resolver.js';
import { PolicyRetentionPass } from './policy-retention-pass.js';
import { PolicyRunner } from './policy-runner.js';
import { PolicyScheduler } from './policy-scheduler.service.js';
import { PolicyWakeups } from './policy-wakeups.js';
import { SnapshotPoliciesResolver } from './snapshot-policies.resolver.js';
import { SnapshotPoliciesService } from './snapshot-policies.service.js';

/** Snapshot policies: their operations, the scheduler that runs them on every api replica, and retention. */
@Module({
  providers: [
    { provide: POLICY_CLOCK, useValue: systemClock },
    SnapshotPoliciesResolver,
    VolumePoliciesResolver,
    SnapshotPolicyFieldResolver,
    SnapshotPoliciesService,
    PolicyWakeups,
    PolicyRunner,
    PolicyRetentionPass,
    PolicyScheduler,
  ],
})
export class SnapshotPoliciesModule {}
