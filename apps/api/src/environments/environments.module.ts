import { Module } from '@nestjs/common';
import { EnvironmentsResolver } from './environments.resolver.js';
import { EnvironmentsService } from './environments.service.js';

@Module({ providers: [EnvironmentsResolver, EnvironmentsService] })
export class EnvironmentsModule {}
