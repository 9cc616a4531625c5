export * from './job-names.js';
export * from './queues.js';
