/* A big stack for the host and the core, shared by the firmware and the emulator image.
 *
 * The SDK's main stack is 2 KiB (PICO_STACK_SIZE, in SCRATCH_Y). The core's native frames (wasm2c:
 * one C frame per wasm call, WASM_RT_MAX_CALL_STACK_DEPTH deep at most; wasm3: 16-32 bytes per op
 * with no tail calls on Cortex-M0+) need far more, so main() switches to this one for good.
 * Filled with a pattern at boot: the high-water mark is measurable and an overflow into the bottom
 * guard is detected after every service call (the firmware then reboots through the watchdog).
 */
#ifndef PW_PICO_STACK_H
#define PW_PICO_STACK_H

#include <stdbool.h>
#include <stdint.h>

#ifndef PW_PICO_STACK_BYTES
#define PW_PICO_STACK_BYTES (24u * 1024u) /* wasm3 used 8.8 KiB at most in picowire_emu; 32 left too little heap */
#endif
#define PW_PICO_STACK_GUARD_WORDS 16u
#define PW_PICO_STACK_FILL 0x5AC3E1F0u

extern uint32_t pw_pico_stack[PW_PICO_STACK_BYTES / 4];

/** Implemented in stack.S: fn(arg) on the stack ending at stack_top (8-byte aligned). */
void pw_pico_run_on_stack(void (*fn)(void *), void *arg, void *stack_top);

/** Fills the stack with the pattern (call before switching to it) and runs fn(arg) on it. */
static inline void pw_pico_stack_run(void (*fn)(void *), void *arg) {
  for (uint32_t i = 0; i < PW_PICO_STACK_BYTES / 4; i++) pw_pico_stack[i] = PW_PICO_STACK_FILL;
  pw_pico_run_on_stack(fn, arg, &pw_pico_stack[PW_PICO_STACK_BYTES / 4]);
}

/** true while the guard words at the bottom are intact. */
static inline bool pw_pico_stack_intact(void) {
  for (uint32_t i = 0; i < PW_PICO_STACK_GUARD_WORDS; i++)
    if (pw_pico_stack[i] != PW_PICO_STACK_FILL) return false;
  return true;
}

/** Deepest use so far, in bytes. */
static inline uint32_t pw_pico_stack_used(void) {
  uint32_t i = 0;
  while (i < PW_PICO_STACK_BYTES / 4 && pw_pico_stack[i] == PW_PICO_STACK_FILL) i++;
  return PW_PICO_STACK_BYTES - 4u * i;
}

#endif
