/** The dependencies request handlers share, built once at startup. */
import type { ServerConfig } from './config.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { Logger } from './logger.js';
import type { TaskRunner } from './runner/runner.js';
import type { Storage } from './storage/types.js';

export interface Services {
  readonly config: ServerConfig;
  readonly storage: Storage;
  readonly gate: Gatekeeper;
  readonly runner: TaskRunner;
  readonly clock: () => number;
  readonly log: Logger;
}
