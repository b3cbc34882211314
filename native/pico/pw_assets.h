/* Read-only assets of the Pico W firmware, for the ABI's asset_find/asset_size/asset_read:
 *   0 "index.html.gz"  the dashboard page (build/index.html.gz, embedded at build time as a const array in
 *                      flash by cmake/embed_asset.cmake): the core streams it on GET / and GET /index.html;
 *   1 "core.sha256"    the SHA-256 (hex) of the core the engine runs, which the core reports in get_info;
 *   2 "setup.html.gz"  the setup page an unconfigured board serves on GET / (build/setup.html.gz, embedded
 *                      beside the dashboard when the build passes it; docs/provisioning.md).
 * The same assets as the Node host (tools/host/board.ts); nothing is copied into RAM. "core.engine" and
 * "core.slot" are answered by the host itself (pw_host.c), for every port. Nothing here is Pico-specific:
 * the lwIP loopback test (test/) links it too.
 */
#ifndef PW_ASSETS_H
#define PW_ASSETS_H

#include "pw_host.h"
#include "pw_platform.h"

/** Sets p->asset_find/asset_size/asset_read; core.sha256 is asked of host's engine when the core asks. */
void pw_assets_fill(pw_platform *p, pw_host *host);

#endif
