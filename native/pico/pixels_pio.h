/* LED-strip output for the pixels_show import: WS2812 timing from a PIO state machine fed by DMA, so a
 * frame costs the CPU one copy and a few register writes, not 30 us per pixel. */
#ifndef PW_PIXELS_PIO_H
#define PW_PIXELS_PIO_H
#include <stddef.h>
#include <stdint.h>

/* The largest frame in bytes (wire order, already gamma-corrected by the core): 512 RGB pixels. */
#define PW_PIXELS_MAX_BYTES 1536

/* pw_platform.pixels_show: PW_OK once the frame is on its way; PW_ERR_WOULDBLOCK while the previous
 * frame (and the strip's 300 us latch after it) is still going out; PW_ERR_RANGE for a frame too long;
 * PW_ERR_NOTFOUND for a pin that cannot drive a strip (the radio's, or no such GPIO); PW_ERR_NOMEM
 * when no PIO state machine or DMA channel is free. */
int32_t pw_pixels_show(void *ctx, int32_t pin, const uint8_t *src, size_t len);

#endif
