/**
 * A Map that holds at most `capacity` entries, dropping the oldest-inserted one to make room. It
 * backs the request caches: first-in-first-out is enough for them (a dropped entry costs one
 * storage read), and a read never reorders, so a hit costs one Map lookup.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key); // a re-set entry counts as new
    if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  /** Deletes the entries whose value passes `test`; a scan, for rare administrative changes. */
  deleteWhere(test: (value: V) => boolean): void {
    for (const [key, value] of this.map) if (test(value)) this.map.delete(key);
  }
}
