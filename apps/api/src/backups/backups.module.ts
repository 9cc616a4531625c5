import { Module } from '@nestjs/common';
import { BackupsResolver } from './backups.resolver.js';
import { BackupsService } from './backups.service.js';
import { RestoreBackupService } from './restore-backup.service.js';

@Module({ providers: [BackupsResolver, BackupsService, RestoreBackupService], exports: [BackupsService] })
export class BackupsModule {}
