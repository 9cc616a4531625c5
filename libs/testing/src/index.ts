export * from './capabilities.js';
export * from './databases.js';
