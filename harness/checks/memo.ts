/**
 * Values worked out once per object (a message's command walk, a captured body read as SyncML) and kept on the
 * object itself, in one cache under a symbol that is neither enumerable nor copied: invisible to JSON, comparisons
 * and clones.
 *
 * Why not a WeakMap: a WeakMap whose values are large object graphs keyed by short-lived objects makes every garbage
 * collection trace them as ephemerons; measured on offline grading, that halved the rate of the codec it cached.
 */
const CACHE = Symbol('memo');

type Cache = Record<symbol, unknown>;

/** The holders given a cache while `releasedAfter` runs; undefined outside it. */
let holdersInScope: object[] | undefined;

export function memo<T>(holder: object, key: symbol, make: () => T): T {
  let cache = (holder as Record<symbol, Cache | undefined>)[CACHE];
  if (cache === undefined) {
    cache = Object.create(null) as Cache;
    Object.defineProperty(holder, CACHE, { value: cache, enumerable: false, configurable: true, writable: true });
    holdersInScope?.push(holder);
  }
  const known = cache[key];
  if (known !== undefined) return known as T;
  const value = make();
  cache[key] = value;
  return value;
}

/**
 * Runs `fn`, then drops every cache it gave an object: what the checks work out from a session (the indexes of its
 * commands and statuses) serves only while they judge it, and kept on the session's messages it would live as long
 * as they do. A captured session stays in memory until the reports are written, so for a large capture these caches
 * would be a third of the memory, which every garbage collection has to go through again. Values asked for later are
 * worked out anew.
 */
export function releasedAfter<T>(fn: () => T): T {
  const outer = holdersInScope;
  const holders: object[] = [];
  holdersInScope = holders;
  try {
    return fn();
  } finally {
    holdersInScope = outer;
    for (const holder of holders) delete (holder as Record<symbol, unknown>)[CACHE];
  }
}
