import type { ApiConfig } from '@snapdeck/config';

/** Injection token of the api's validated configuration. */
export const API_CONFIG = Symbol('API_CONFIG');
export type { ApiConfig };
