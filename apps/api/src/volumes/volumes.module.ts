import { Module } from '@nestjs/common';
import { VolumesResolver } from './volumes.resolver.js';
import { VolumesService } from './volumes.service.js';

@Module({ providers: [VolumesResolver, VolumesService] })
export class VolumesModule {}
