export * from './agent-config.js';
export * from './api-config.js';
export * from './logging.js';
export * from './validate.js';
