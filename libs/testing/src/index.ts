export * from './capabilities.js';
export * from './databases.js';
export * from './private-postgres.js';
export * from './http-receiver.js';
