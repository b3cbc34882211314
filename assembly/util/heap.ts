// The core reserves all its memory in init() with AssemblyScript's stub runtime (a bump allocator that
// never frees); after init nothing may allocate. The heap top is observable so tests can prove it.

/** The board caps the core's linear memory here (wasm3 memoryLimit; wasm2c allocates the whole 64 KiB page
 *  anyway, so on the shipped firmware the cap costs nothing); the hosts guard the rest with a canary. */
export const HEAP_LIMIT: usize = 40960;

/** The current end of the bump heap. Allocating and freeing the newest block leaves the stub's
 *  offset where it was, so this probe itself moves nothing. */
export function heapTop(): usize {
  let p = heap.alloc(0);
  heap.free(p);
  return p - 4; // the stub's block header (BLOCK_OVERHEAD)
}
