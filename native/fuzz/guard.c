/* Out-of-bounds accesses of the core as traps through guard pages (guard.h). */
#define _GNU_SOURCE
#include "guard.h"
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "fuzz_host.h"

#define RESERVED 0x200000000ull /* what wasm_rt_allocate_memory reserves with the signal handler on */

static struct sigaction before_segv, before_bus;

static void on_fault(int sig, siginfo_t* si, void* context) {
  (void)context;
  uintptr_t base = (uintptr_t)core.w2c_memory.data;
  if (base && (uintptr_t)si->si_addr - base < RESERVED) fuzz_trap(WASM_RT_TRAP_OOB);
  /* not the core's: the previous handler takes it when the faulting instruction runs again */
  sigaction(sig, sig == SIGBUS ? &before_bus : &before_segv, NULL);
}

void guard_init(void) {
  static uint8_t alt_stack[1 << 16];
  stack_t before_stack;
  sigaltstack(NULL, &before_stack);
  sigaction(SIGSEGV, NULL, &before_segv);
  sigaction(SIGBUS, NULL, &before_bus);
  wasm_rt_init(); /* installs its own handler and an alternate signal stack of SIGSTKSZ */
  /* Its stack is too small for a sanitizer's report (ASan's overflowed it): the one before, or 64 KiB */
  if (before_stack.ss_flags & SS_DISABLE) {
    before_stack.ss_sp = alt_stack;
    before_stack.ss_size = sizeof alt_stack;
    before_stack.ss_flags = 0;
  }
  if (sigaltstack(&before_stack, NULL) != 0) abort();
  struct sigaction sa = {0};
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sa.sa_sigaction = on_fault;
  if (sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL) != 0) abort();
}

void guard_release(uint8_t* data, uint64_t size) {
  if (data && size < RESERVED) munmap(data + size, RESERVED - size);
}

void guard_probe(const char* where) {
  volatile const uint8_t* p = (uint8_t*)16;
  if (strcmp(where, "core") == 0) p = core.w2c_memory.data + core.w2c_memory.size + 100; /* as a wasm load past the end */
  (void)*p;
}
