import { Logger } from '@nestjs/common';
import { loadAgentConfig } from '@snapdeck/config';
import { hostQueueName } from '@snapdeck/contracts';
import { startAgent } from './bootstrap.js';
import { describeError } from './jobs/error-message.js';
import { AGENT_VERSION } from './version.js';

// `npm run start:agent`: the only place the agent reads the environment.
const logger = new Logger('SnapdeckAgent');
try {
  const config = loadAgentConfig(process.env);
  const agent = await startAgent(config);
  // SIGTERM/SIGINT close the context: heartbeat stops, running jobs finish and report, connections close.
  agent.app.enableShutdownHooks();
  logger.log(
    `Snapdeck agent ${AGENT_VERSION} serving host "${config.AGENT_HOST_NAME}" from queue ` +
      `"${config.QUEUE_PREFIX}:${hostQueueName(config.AGENT_HOST_NAME)}" with the ${config.AGENT_DRIVER} driver ` +
      `(${config.AGENT_CONCURRENCY} jobs at once, heartbeat every ${config.AGENT_HEARTBEAT_SECONDS} s)`,
  );
} catch (error) {
  logger.error(`The agent could not start: ${error instanceof Error ? error.message : describeError(error)}`);
  process.exit(1);
}
