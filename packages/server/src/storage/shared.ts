/** What every storage adapter applies the same way. */

/** The code an unfinished task reads once its deadline has passed. */
export const OVERDUE_CODE = 'ERROR_CAPTCHA_UNSOLVABLE';

/** A set of listeners to one kind of event; `add` returns the function that removes the listener. */
export class Listeners<Args extends unknown[]> {
  private readonly listeners = new Set<(...args: Args) => void>();

  add(listener: (...args: Args) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(...args: Args): void {
    for (const listener of this.listeners) listener(...args);
  }
}

/** The listeners an adapter calls when a task ends (solved or failed), for long-polls waiting on it. */
export class FinishedListeners extends Listeners<[id: string]> {}
