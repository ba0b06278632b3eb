/**
 * @solvebox/server: the protocol server. `startServer` runs it; the rest is for the CLI, for
 * embedding, and for solver packages. Heavier or narrower parts have subpaths of their own, so that
 * importing this one loads no storage driver and no OCR engine: `./config` (the option table
 * alone), `./storage/sqlite`, `./storage/redis`, `./storage/memory` (the adapters), `./docs` (the
 * generated documents), `./testing` (a throwaway redis-server, the byte-level fuzzer).
 * @module
 */
export { startServer, type RunningServer, type StartOptions } from './server.js';
export { startWorker, type RunningWorker, type WorkerOptions } from './worker.js';
export { buildApp } from './app.js';
export { ConfigError, OPTIONS, SOLVER_BACKENDS, configWith, envName, loadConfig, type ServerConfig, type SolverBackend } from './config.js';
export { createStorage, StorageError, redactUrl, type Account, type Operator, type OperatorRole, type SolverStats, type Storage } from './storage/index.js';
export { createAccount, type CreatedAccount } from './accounts.js';
export { createOperator, OPERATOR_NAME, type CreatedOperator } from './console/operators.js';
export { hashApiKey, newApiKey } from './identity.js';
export { formatMicros, parseMicros } from './money.js';
export { SANDBOX_DIRECTIVES, SANDBOX_TEST_KEYS, SandboxSolver } from './solving/solvers/sandbox.js';
export type { Services } from './services.js';
export { createLogger, type Logger } from './logger.js';
export { installLastResort } from './last-resort.js';
