export * from './enums.js';
export * from './disks.js';
export * from './errors.js';
export * from './ids.js';
export * from './machines.js';
export * from './naming.js';
export * from './permissions.js';
export * from './state-machine.js';
