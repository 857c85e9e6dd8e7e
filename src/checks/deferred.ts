/**
 * A promise with its resolve function outside it, for the objects that settle a promise from an event (a check's
 * attempt, the probe loop). Promise.withResolvers where the runtime has it (Bun; Node from 22): JavaScriptCore's
 * `new Promise(executor)` is a builtin compiled at its first run, about 10 page faults of every start of a
 * one-shot agent (bench:agent); Node 20 has only the constructor.
 */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

/** Promise as the runtime has it: withResolvers is ES2024, absent from Node 20. */
const Runtime = Promise as PromiseConstructor & { withResolvers?: <T>() => Deferred<T> };

export function deferred<T>(): Deferred<T> {
  if (Runtime.withResolvers !== undefined) return Runtime.withResolvers<T>();
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
