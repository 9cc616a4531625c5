import { Module } from '@nestjs/common';
import { VolumesResolver } from './volumes.resolver.js';

@Module({ providers: [VolumesResolver] })
export class VolumesModule {}
