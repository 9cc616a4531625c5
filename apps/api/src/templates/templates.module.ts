import { Module } from '@nestjs/common';
import { TemplatesResolver } from './templates.resolver.js';
import { TemplatesService } from './templates.service.js';

@Module({ providers: [TemplatesResolver, TemplatesService] })
export class TemplatesModule {}
