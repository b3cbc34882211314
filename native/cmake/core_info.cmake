# Run at build time: writes the SHA-256 of the wasm that was translated, so the binary can say which
# core it carries (tests compare it with build/picowire.wasm).  cmake -DWASM=... -DOUT=... -P core_info.cmake
file(SHA256 "${WASM}" sha)
set(text "/* GENERATED at build time from ${WASM} */\n#define PW_CORE_SHA256 \"${sha}\"\n")
include("${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake")
pw_write_if_changed("${OUT}" "${text}")
