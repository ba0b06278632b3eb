/** Starts the console's listener (`--console-host`, `--console-port`); see app.ts. */
import type { TaskType } from '@solvebox/protocol';
import type { Metrics } from '../metrics.js';
import type { Services } from '../services.js';
import type { HumanDesk } from '../storage/desk.js';
import { buildConsole } from './app.js';

export interface RunningConsole {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startConsole(services: Services, desk: HumanDesk, metrics: Metrics, types: readonly TaskType[]): Promise<RunningConsole> {
  const { app, streams } = buildConsole({ services, desk, metrics, types });
  const url = await app.listen({ host: services.config.consoleHost, port: services.config.consolePort });
  return {
    url,
    close: async () => {
      // Event streams never end by themselves: end them first, or closing would wait for them.
      streams.close();
      await app.close();
    },
  };
}

export { hashPassword, newPassword, verifyPassword } from './passwords.js';
