import { Module } from '@nestjs/common';
import { InstancesResolver } from './instances.resolver.js';
import { InstancesService } from './instances.service.js';

@Module({ providers: [InstancesResolver, InstancesService], exports: [InstancesService] })
export class InstancesModule {}
