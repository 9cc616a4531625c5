import { Module } from '@nestjs/common';
import { InstanceSnapshotsResolver } from './instance-snapshots.resolver.js';
import { InstanceSnapshotsService } from './instance-snapshots.service.js';

@Module({ providers: [InstanceSnapshotsResolver, InstanceSnapshotsService], exports: [InstanceSnapshotsService] })
export class InstanceSnapshotsModule {}
