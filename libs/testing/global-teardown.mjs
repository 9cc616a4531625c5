// Drops this run's template database; each test file drops its own clone.
import { dropTemplate } from './global-setup.mjs';

export default dropTemplate;
