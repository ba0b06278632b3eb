/**
 * @solvebox/server: the protocol server. `startServer` runs it; the rest is for the CLI, for
 * embedding, and for solver packages.
 * @module
 */
export { startServer, resolveRoutes, type RunningServer, type StartOptions } from './server.js';
export { startWorker, type RunningWorker, type WorkerOptions } from './worker.js';
export { buildApp } from './app.js';
export { ConfigError, OPTIONS, SOLVER_BACKENDS, configWith, envName, loadConfig, type ServerConfig, type SolverBackend } from './config.js';
export { createStorage, MemoryStorage, RedisStorage, SqliteStorage, StorageError, redactUrl, type Account, type SolverStats, type Storage } from './storage/index.js';
export { createAccount, type CreatedAccount } from './accounts.js';
export { hashApiKey, newApiKey } from './identity.js';
export { formatMicros, parseMicros } from './money.js';
export { SANDBOX_DIRECTIVES, SANDBOX_TEST_KEYS, SandboxSolver } from './solvers/sandbox.js';
export { type Services } from './services.js';
export { createLogger, type Logger } from './logger.js';
export { installLastResort } from './last-resort.js';
export { GENERATED_DOCS } from './docs/render.js';
