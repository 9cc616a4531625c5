import { Module } from '@nestjs/common';
import { HostsResolver } from './hosts.resolver.js';

@Module({ providers: [HostsResolver] })
export class HostsModule {}
