/* The SDK's cyw43-driver (SPI build) assembles an outgoing frame in its one bus buffer, spid_buf, and when
 * the chip has granted no SDPCM credit it waits for credit by polling the chip for packets, which it
 * reads into the same spid_buf (cyw43_sdpcm_send_common -> cyw43_ll_sdpcm_poll_device): the frame it
 * then sends is a received packet instead of ours, and the received packet is dropped. Seen in the
 * emulator (tools/emu/RADIO.md) under a burst of connections: the board transmitted copies of its
 * peers' frames, whose source address taught the network's switch that the peer sat behind the board,
 * so the board's own replies went nowhere and connections hung.
 *
 * The guard sends a frame only when the driver has credit for it, so the driver never waits in that
 * loop. Without credit a small frame (an ACK, a RST, a SYN-ACK, ARP: at most PW_TX_HOLD_BYTES) is copied
 * into a queue of PW_TX_HOLD_FRAMES and sent, in order, once the loop has read the chip's frames, which
 * carry new credit; a larger one is not sent (ERR_IF): lwIP keeps an unsent TCP segment queued
 * (TF_NAGLEMEMERR) and tcp_txnow() here resends it, and a datagram is lost as on a busy radio. A lost RST
 * would leave its peer waiting forever (lwIP resets a LAST_ACK connection it reclaims for a new SYN). */
#include "cyw43_tx_guard.h"

#include "pico/cyw43_arch.h"
#include "cyw43_internal.h" /* the driver's sequence number and credit (after cyw43.h, which it needs) */
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#ifndef PW_TX_HOLD_FRAMES
#define PW_TX_HOLD_FRAMES 6
#endif
#ifndef PW_TX_HOLD_BYTES
#define PW_TX_HOLD_BYTES 64 /* Ethernet + IPv4 + TCP with the SYN-ACK's MSS option: 58 */
#endif

uint32_t pw_cyw43_tx_held;
uint32_t pw_cyw43_tx_dropped;

static netif_linkoutput_fn driver_output[2];
static struct {
  uint8_t len, itf;
  uint8_t frame[PW_TX_HOLD_BYTES];
} held[PW_TX_HOLD_FRAMES];
static uint8_t held_head, held_count;

bool pw_cyw43_has_credit(void) {
  const cyw43_int_t *ll = (const cyw43_int_t *)&cyw43_state.cyw43_ll;
  if (!ll->bus_is_up) return true; /* not started: the first use brings it up (or finds it absent) */
  return !ll->wlan_flow_control && ll->wwd_sdpcm_last_bus_data_credit != ll->wwd_sdpcm_packet_transmit_sequence_number;
}

/* Sends the held frames while there is credit; true when none is left waiting. */
static bool send_held(void) {
  while (held_count > 0 && pw_cyw43_has_credit()) {
    uint8_t i = held_head;
    struct pbuf p = {.payload = held[i].frame, .tot_len = held[i].len, .len = held[i].len, .type_internal = PBUF_REF, .ref = 1};
    driver_output[held[i].itf](&cyw43_state.netif[held[i].itf], &p);
    held_head = (uint8_t)((held_head + 1) % PW_TX_HOLD_FRAMES);
    held_count--;
  }
  return held_count == 0;
}

static err_t guarded_output(struct netif *netif, struct pbuf *p) {
  int itf = netif == &cyw43_state.netif[CYW43_ITF_AP] ? CYW43_ITF_AP : CYW43_ITF_STA;
  if (send_held() && pw_cyw43_has_credit()) return driver_output[itf](netif, p); /* in order: the held ones first */
  pw_cyw43_tx_held++;
  if (p->tot_len > PW_TX_HOLD_BYTES || held_count == PW_TX_HOLD_FRAMES) {
    if (p->tot_len <= PW_TX_HOLD_BYTES) pw_cyw43_tx_dropped++;
    return ERR_IF;
  }
  uint8_t i = (uint8_t)((held_head + held_count) % PW_TX_HOLD_FRAMES);
  held[i].len = (uint8_t)pbuf_copy_partial(p, held[i].frame, p->tot_len, 0);
  held[i].itf = (uint8_t)itf;
  held_count++;
  return ERR_OK;
}

void pw_cyw43_tx_guard_poll(void) {
  for (int itf = 0; itf < 2; itf++) {
    struct netif *n = &cyw43_state.netif[itf];
    if (n->linkoutput && n->linkoutput != guarded_output) { /* set (again) by the driver's netif init */
      driver_output[itf] = n->linkoutput;
      n->linkoutput = guarded_output;
    }
  }
  if (send_held() && pw_cyw43_has_credit()) tcp_txnow();
}
