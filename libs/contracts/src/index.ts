export * from './job-names.js';
export * from './queues.js';
export * from './inventory.js';
export * from './backups.js';
