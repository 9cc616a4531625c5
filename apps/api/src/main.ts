import { Logger } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import { startApi } from './bootstrap.js';

const config = loadApiConfig(process.env);
const app = await startApi(config);
new Logger('Snapdeck').log(`api listening: GraphQL at ${await app.getUrl()}/graphql, health at /health`);
