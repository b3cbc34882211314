# Run at build time: writes the SHA-256 of the wasm that was translated, so the binary can say which
# core it carries (tests compare it with build/picowire.wasm).  cmake -DWASM=... -DOUT=... -P core_info.cmake
file(SHA256 "${WASM}" sha)
set(text "/* GENERATED at build time from ${WASM} */\n#define PW_CORE_SHA256 \"${sha}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${text}")
