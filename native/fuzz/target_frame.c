/* frame: WebSocket frames on an upgraded /echo connection (target_http.c after the upgrade). */
#include <string.h>
#define FUZZ_WS_UPGRADE 1
#include "target_http.c"
