/* The C tests' checks: CHECK counts a failure and says where, GROUP prints one line per group of checks
 * ("ok ..." or "FAILED ..."); a test's main returns failures != 0. One test program per include. */
#ifndef PW_TEST_CHECK_H
#define PW_TEST_CHECK_H
#include <stdio.h>

static int failures, group_failures;
#define GROUP(text) do { printf("%s %s\n", failures == group_failures ? "ok" : "FAILED", text); group_failures = failures; } while (0)
#define CHECK(cond)                                                                \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      failures++;                                                                  \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
    }                                                                              \
  } while (0)

#endif
