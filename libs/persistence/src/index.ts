export * from './database.js';
export * from './entities/index.js';
export * from './idempotency.js';
export * from './ids.js';
export * from './pagination.js';
export * from './repositories/index.js';
export * from './scope.js';
export * from './transition.js';
