// Drops this run's template database (each test file drops its own clone) and stops an embedded PostgreSQL.
import { globalTeardown } from './global-setup.mjs';

export default globalTeardown;
