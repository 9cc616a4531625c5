export * from './agent-config.js';
export * from './api-config.js';
export * from './validate.js';
