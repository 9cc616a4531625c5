import { Module } from '@nestjs/common';
import { JobsResolver } from './jobs.resolver.js';

@Module({ providers: [JobsResolver] })
export class JobsModule {}
