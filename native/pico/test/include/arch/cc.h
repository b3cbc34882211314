/* lwIP's compiler/platform header for the host-side test of pw_lwip.c. */
#ifndef PW_TEST_ARCH_CC_H
#define PW_TEST_ARCH_CC_H
#include <stdio.h>
#include <stdlib.h>
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { fprintf(stderr, "lwIP assertion failed: %s (%s:%d)\n", x, __FILE__, __LINE__); abort(); } while (0)
#define LWIP_RAND() ((u32_t)rand())
#define LWIP_NO_UNISTD_H 0
#endif
