// The buffer every host event reads from or writes to (io_buffer). In a module of its own that
// assembly/index.ts imports first, so it lies right after the texts, low in memory: the code names it
// often, and an address below 8192 is a 2-byte constant where one above takes 3.
import { IO_CAPACITY } from "./host.generated";

export const io = memory.data(IO_CAPACITY);
