/**
 * Stands in for `node:path` and `node:fs/promises` in the browser build: the SDK imports them
 * lazily only to read an address book from a file (`loadAddressBook`, `readAddressBook`), which
 * the app never does (its book comes from pledge.json).
 */
function unavailable(): never {
  throw new Error("reading an address book from a file needs Node; the app reads pledge.json");
}
export const resolve = unavailable;
export const readFile = unavailable;
export default { resolve };
