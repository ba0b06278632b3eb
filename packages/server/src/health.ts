/** What GET /health reports: whether storage answers, and the state of this process's solvers. */
import type { TaskType } from '@solvebox/protocol';
import type { Services } from './services.js';
import { isStorageError } from './storage/types.js';
import type { UpstreamStatus } from './solving/relay/relay.js';

export interface Health {
  /** `ok` while storage answers; `unavailable` (HTTP 503) while it does not. */
  readonly status: 'ok' | 'unavailable';
  readonly storage: {
    readonly kind: string;
    readonly ok: boolean;
    readonly latencyMs?: number;
    readonly error?: string;
    /** SQLite with durable writes: fsyncs so far, and the writes they acknowledged. */
    readonly groupCommit?: { readonly syncs: number; readonly writes: number };
  };
  readonly solvers: {
    /** Task types this process solves itself; none on an API-only node, whose workers solve them. */
    readonly types: readonly TaskType[];
    /** Those of them whose solver keeps crashing: in.php refuses them until its cooldown ends. */
    readonly failing: readonly TaskType[];
  };
  /** The relay's upstreams (`--upstreams`): circuit, tasks in flight, spend today; never a key. */
  readonly relay?: { readonly upstreams: readonly UpstreamStatus[] };
}

export async function checkHealth(svc: Pick<Services, 'storage' | 'dispatch' | 'solverTypes' | 'clock' | 'relay'>): Promise<Health> {
  const now = svc.clock();
  const failing = svc.solverTypes.filter((type) => !svc.dispatch.isAvailable(type, now));
  const solvers = { types: svc.solverTypes, failing };
  const relay = svc.relay ? { relay: { upstreams: await svc.relay.status() } } : {};
  const started = performance.now();
  try {
    await svc.storage.ping();
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    return { status: 'ok', storage: { kind: svc.storage.kind, ok: true, latencyMs, ...svc.storage.diagnostics?.() }, solvers, ...relay };
  } catch (err) {
    // A StorageError names the operation and the driver's message; anything else stays private.
    const error = isStorageError(err) ? err.message : 'storage check failed';
    return { status: 'unavailable', storage: { kind: svc.storage.kind, ok: false, error }, solvers, ...relay };
  }
}
