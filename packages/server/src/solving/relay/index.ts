/**
 * The relay backend as a process opens it: from `--upstreams`, with keys from the environment,
 * its outcomes counted in the metrics when they are on. One per process, shared by the solvers
 * (`relay`, `relay:NAME`), /health and the report routes, which forward clients' reports upstream.
 */
import type { ServerConfig } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { RelayStore } from '../../storage/types.js';
import { Relay } from './relay.js';
import { loadUpstreams } from './upstreams.js';

export interface OpenRelayOptions {
  readonly log: Logger;
  readonly clock: () => number;
  readonly metrics?: Metrics;
  /** Where upstream keys are read from. @defaultValue process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The relay of `--upstreams`, or undefined when no file is configured. Throws ConfigError for a bad file or a missing key. */
export function openRelay(config: Pick<ServerConfig, 'upstreams'>, storage: RelayStore, options: OpenRelayOptions): Relay | undefined {
  if (config.upstreams === '') return undefined;
  const upstreams = loadUpstreams(config.upstreams, options.env ?? process.env);
  const relay = new Relay({
    upstreams,
    storage,
    log: options.log,
    clock: options.clock,
    ...(options.metrics ? { observer: options.metrics.relayObserver() } : {}),
  });
  options.metrics?.watchRelay(relay);
  return relay;
}

export { Relay, RELAY_PREFIX, type UpstreamStatus } from './relay.js';
