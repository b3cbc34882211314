// Small helpers for commands that take `--name value` options and `--flag`s in any order.

/** Removes `name value` from argv and returns the value (undefined when absent); a missing value is
 *  an error that shows `usage`. */
export function takeOption(argv: string[], name: string, usage: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith("--")) throw new Error(`${name} needs a value\n${usage}`);
  argv.splice(i, 2);
  return v;
}

/** Removes `name` from argv; whether it was there. */
export function takeFlag(argv: string[], name: string): boolean {
  const i = argv.indexOf(name);
  if (i >= 0) argv.splice(i, 1);
  return i >= 0;
}
