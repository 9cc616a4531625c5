/** Reported in every heartbeat so operators can see which agents run which release; bump with package.json. */
export const AGENT_VERSION = '0.1.0';
