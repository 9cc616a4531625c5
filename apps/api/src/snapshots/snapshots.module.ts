import { Module } from '@nestjs/common';
import { SnapshotsResolver } from './snapshots.resolver.js';
import { SnapshotsService } from './snapshots.service.js';

@Module({ providers: [SnapshotsResolver, SnapshotsService], exports: [SnapshotsService] })
export class SnapshotsModule {}
