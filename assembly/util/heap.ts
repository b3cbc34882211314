// The core reserves all its memory in init() from a bump allocator that never frees; after init nothing
// may allocate. The heap top is observable so tests can prove it. The layout is the stub runtime's
// (a 4-byte header before each block, blocks 16-aligned), without its grow path and its error texts:
// the core's memory is one page that never grows, and running past it traps either way.

/** The board caps the core's linear memory here (wasm3 memoryLimit; wasm2c allocates the whole 64 KiB page
 *  anyway, so on the shipped firmware the cap costs nothing); the hosts guard the rest with a canary. */
export const HEAP_LIMIT: usize = 40960;

const HEADER: usize = 4;
let top: usize = ((__heap_base + HEADER + 15) & ~15) - HEADER; // where the next block's header goes

/** `size` bytes, 16-aligned, that stay the caller's for good. */
export function alloc(size: usize): usize {
  let p = top + HEADER;
  let end = p + (((size + HEADER + 15) & ~15) - HEADER);
  if (end > <usize>memory.size() << 16) unreachable(); // the core's page is full: a bug, the host restarts
  top = end;
  return p;
}

/** The current end of the bump heap. */
export function heapTop(): usize {
  return top;
}
