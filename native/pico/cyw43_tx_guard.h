/* Keeps the CYW43 driver from sending a frame it would corrupt (cyw43_tx_guard.c). */
#ifndef PW_CYW43_TX_GUARD_H
#define PW_CYW43_TX_GUARD_H

#include <stdbool.h>
#include <stdint.h>

/** From the port's loop, after cyw43_arch_poll(): guards the driver's netifs (again after the driver
 *  re-initialises one) and resends the TCP segments a guarded send held back. */
void pw_cyw43_tx_guard_poll(void);
/** The driver may send now without waiting for credit. Its ioctls (the LED, status polls) wait in the
 *  same loop, which clobbers the request in spid_buf as it clobbers a frame: callers that can wait a
 *  round ask first. */
bool pw_cyw43_has_credit(void);
/** Frames held back for lack of SDPCM credit since boot (queued, or left to lwIP), and small ones dropped
 *  because the queue was full. */
extern uint32_t pw_cyw43_tx_held;
extern uint32_t pw_cyw43_tx_dropped;

#endif
