/* rgb: the colour parser in all three formats; never a value above 0xffffff. */
#include <stdlib.h>
#include "fuzz_host.h"
#include "target.h"

void target_prepare(void) { fuzz_start("http_port=0", 1000); }

void target_run(const uint8_t* data, size_t size) {
  for (u32 fmt = 0; fmt < 3; fmt++) {
    int32_t r = (int32_t)Z_coreZ_rgb_parse(&core, fuzz_io_write(data, size), fmt);
    if (r > 0xffffff) abort();
  }
}
