/** Ends an exhaustive switch: the argument has type `never` when every case is handled. */
export function unreachable(x: never, what = 'value'): never {
  throw new Error(`unreachable: unexpected ${what} ${JSON.stringify(x)}`);
}
