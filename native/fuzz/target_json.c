/* json: the JSON object parser; members within the table, errors inside the text. */
#include <stdlib.h>
#include "fuzz_host.h"
#include "target.h"

void target_prepare(void) { fuzz_start("http_port=0", 1000); }

void target_run(const uint8_t* data, size_t size) {
  u32 n = fuzz_io_write(data, size);
  int32_t r = (int32_t)Z_coreZ_json_parse(&core, n, 8);
  if (r > 16 || (r < 0 && (uint32_t)(-1 - r) > n)) abort();
}
