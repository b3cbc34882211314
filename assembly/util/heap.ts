// The core reserves all its memory in init() with AssemblyScript's stub runtime (a bump allocator that
// never frees); after init nothing may allocate. The heap top is observable so tests can prove it.

/** The board caps the core's linear memory here (wasm3 memoryLimit); the Node host guards the rest. */
export const HEAP_LIMIT: usize = 32768;

/** The current end of the bump heap. Allocating and freeing the newest block leaves the stub's
 *  offset where it was, so this probe itself moves nothing. */
export function heapTop(): usize {
  let p = heap.alloc(0);
  heap.free(p);
  return p - 4; // the stub's block header (BLOCK_OVERHEAD)
}
