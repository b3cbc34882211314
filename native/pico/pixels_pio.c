/* pixels_show on the Pico: see pixels_pio.h. One state machine and one DMA channel, claimed at the
 * first frame and kept; a frame on another pin moves the state machine there. */
#include "pixels_pio.h"

#include <string.h>

#include "hardware/clocks.h"
#include "hardware/dma.h"
#include "hardware/pio.h"
#include "pico/time.h"
#include "picowire_abi.h"
#include "ws2812.pio.h"

#define LATCH_US 300 /* newer WS2812B parts need > 280 us low before the next frame */
#define BIT_HZ 800000u
#define CYCLES_PER_BIT 10u

static struct {
  PIO pio;
  uint sm, offset;
  int dma;
  int32_t pin; /* the pin the state machine drives; -1 none yet */
  bool claimed;
  absolute_time_t latch_end; /* the strip takes the next frame after this */
  uint8_t frame[PW_PIXELS_MAX_BYTES];
} X = {.pin = -1};

/* GP23-25 and GP29 belong to the radio on a Pico W. */
static bool pin_ok(int32_t pin) { return pin >= 0 && pin < PW_PIN_COUNT && !(pin >= 23 && pin <= 25) && pin != 29; }

static bool claim(void) {
  if (X.claimed) return true;
  if (!pio_claim_free_sm_and_add_program(&pw_ws2812_program, &X.pio, &X.sm, &X.offset)) return false;
  X.dma = dma_claim_unused_channel(false);
  if (X.dma < 0) {
    pio_remove_program_and_unclaim_sm(&pw_ws2812_program, X.pio, X.sm, X.offset);
    return false;
  }
  X.claimed = true;
  X.latch_end = get_absolute_time();
  return true;
}

static void start_on(int32_t pin) {
  PIO pio = X.pio;
  uint sm = X.sm;
  pio_sm_set_enabled(pio, sm, false);
  pio_gpio_init(pio, (uint)pin);
  pio_sm_set_consecutive_pindirs(pio, sm, (uint)pin, 1, true);
  pio_sm_config c = pw_ws2812_program_get_default_config(X.offset);
  sm_config_set_sideset_pins(&c, (uint)pin);
  sm_config_set_out_shift(&c, false, true, 8); /* MSB first, autopull every byte */
  sm_config_set_fifo_join(&c, PIO_FIFO_JOIN_TX);
  sm_config_set_clkdiv(&c, (float)clock_get_hz(clk_sys) / (float)(BIT_HZ * CYCLES_PER_BIT));
  pio_sm_init(pio, sm, X.offset, &c);
  pio_sm_set_enabled(pio, sm, true);

  dma_channel_config d = dma_channel_get_default_config((uint)X.dma);
  channel_config_set_transfer_data_size(&d, DMA_SIZE_8); /* a byte write fills every lane: bits 31..24 too */
  channel_config_set_read_increment(&d, true);
  channel_config_set_write_increment(&d, false);
  channel_config_set_dreq(&d, pio_get_dreq(pio, sm, true));
  dma_channel_configure((uint)X.dma, &d, &pio->txf[sm], X.frame, 0, false);
  X.pin = pin;
}

int32_t pw_pixels_show(void *ctx, int32_t pin, const uint8_t *src, size_t len) {
  (void)ctx;
  if (!pin_ok(pin)) return PW_ERR_NOTFOUND;
  if (len > sizeof X.frame) return PW_ERR_RANGE;
  if (!claim()) return PW_ERR_NOMEM;
  if (dma_channel_is_busy((uint)X.dma) || !pio_sm_is_tx_fifo_empty(X.pio, X.sm) ||
      absolute_time_diff_us(get_absolute_time(), X.latch_end) > 0)
    return PW_ERR_WOULDBLOCK;
  if (pin != X.pin) start_on(pin);
  if (len == 0) return PW_OK;
  memcpy(X.frame, src, len); /* the core's buffer is reused for the next frame at once */
  dma_channel_set_read_addr((uint)X.dma, X.frame, false);
  dma_channel_set_trans_count((uint)X.dma, len, true);
  /* the bits take len * 10 us; the latch starts when the last one is out */
  X.latch_end = make_timeout_time_us((uint64_t)len * 8u * 1000000u / BIT_HZ + LATCH_US);
  return PW_OK;
}
