import { Module } from '@nestjs/common';
import { GraphiqlController } from './graphiql.controller.js';

/** GET /graphiql: GraphiQL from the npm packages, with a bearer-token field. */
@Module({ controllers: [GraphiqlController] })
export class GraphiqlModule {}
