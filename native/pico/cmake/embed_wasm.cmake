# Run at build time (cmake -P): embeds the core into C and checks it is the tested file.
#   -DWASM=<the module to embed>  -DTESTED=<the file the tests ran, build/picowire.wasm>
#   -DEXPECT=<optional SHA-256 the caller tested>  -DARRAY=ON|OFF|WASM3 (below)  -DOUT_C=<.c>  -DOUT_H=<.h>
# Prints the SHA-256. Fails when WASM and TESTED differ or when EXPECT is given and does not match.
file(SHA256 "${WASM}" sha)
message(STATUS "picowire: embedding ${WASM}, sha256 ${sha}")
if(TESTED AND NOT TESTED STREQUAL WASM)
  if(NOT EXISTS "${TESTED}")
    message(FATAL_ERROR "picowire: the tested core ${TESTED} does not exist")
  endif()
  file(SHA256 "${TESTED}" tested_sha)
  if(NOT tested_sha STREQUAL sha)
    message(FATAL_ERROR "picowire: ${WASM} (sha256 ${sha}) is not the tested core ${TESTED} (sha256 ${tested_sha})")
  endif()
endif()
if(EXPECT AND NOT EXPECT STREQUAL sha)
  message(FATAL_ERROR "picowire: ${WASM} has sha256 ${sha}, expected ${EXPECT} (PICOWIRE_WASM_SHA256)")
endif()
file(READ "${WASM}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR n "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
# 24 bytes per line
string(REGEX REPLACE "((0x..,){24})" "\\1\n  " body "${body}")
# ARRAY: ON the length and the bytes; OFF the length only (wasm2c translated the bytes at build time);
# WASM3 nothing (wasm3's library embeds length and bytes itself). The engine gets NULL unless ON.
set(array "const uint32_t pw_core_wasm_len = ${n}u; /* the bytes were translated to C at build time */\n")
set(bytes_macro "#define PW_CORE_WASM_BYTES ((const uint8_t *)0)\n")
if(ARRAY STREQUAL "WASM3")
  set(array "/* the bytes and their length are embedded by the engine's own library (wasm3) */\n")
elseif(NOT DEFINED ARRAY OR ARRAY)
  string(CONCAT array "const uint32_t pw_core_wasm_len = ${n}u;\n"
         "__attribute__((aligned(4))) const uint8_t pw_core_wasm[${n}] = {\n  ${body}\n};\n")
  set(bytes_macro "#define PW_CORE_WASM_BYTES pw_core_wasm\n")
endif()
string(CONCAT c "/* GENERATED at build time from ${WASM}: do not edit. */\n#include \"picowire_core_wasm.h\"\n\n"
      "const char pw_core_wasm_sha256[] = \"${sha}\";\n"
      "${array}")
string(CONCAT h "/* GENERATED at build time: the core module embedded in the firmware (the tested bytes). */\n"
      "#ifndef PICOWIRE_CORE_WASM_H\n#define PICOWIRE_CORE_WASM_H\n#include <stdint.h>\n"
      "#define PW_CORE_WASM_SHA256 \"${sha}\"\n"
      "/* the module bytes for pw_host_options.wasm, or NULL where the engine does not need them */\n${bytes_macro}"
      "extern const char pw_core_wasm_sha256[];\nextern const uint32_t pw_core_wasm_len;\n"
      "extern const uint8_t pw_core_wasm[];\n#endif\n")
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/write_if_changed.cmake")
pw_write_if_changed("${OUT_C}" "${c}")
pw_write_if_changed("${OUT_H}" "${h}")
