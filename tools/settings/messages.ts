// The refusals the generated core parser and the CLI's check (tools/settings/check.ts) share word for word.
export const NAME_ERROR = "1 to 32 letters, digits, '-' or '_'";
export const TRIPLE_ERROR = "expected three comma-separated numbers in range";
export const NUMBER_ERROR = "expected a whole number";

/** "expected a, b or c" for an enum's names. */
export function enumError(names: readonly string[]): string {
  return `expected ${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}
