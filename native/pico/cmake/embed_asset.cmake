# Run at build time (cmake -P): embeds one read-only asset (the dashboard page, build/index.html.gz)
# into C as a const array, which the linker keeps in flash.
#   -DIN=<file>  -DNAME=<the asset's name the core asks for, e.g. index.html.gz>  -DOUT_C=<.c>  -DOUT_H=<.h>
# Fails, naming the command that builds it, when the file does not exist. Prints its size and SHA-256.
if(NOT EXISTS "${IN}")
  message(FATAL_ERROR "picowire: the asset ${IN} does not exist: build it first (npm run build, or "
                      "npx tsx tools/build/dashboard.ts); the firmware serves it on GET /")
endif()
file(SHA256 "${IN}" sha)
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR n "${hex_len} / 2")
if(n EQUAL 0)
  message(FATAL_ERROR "picowire: the asset ${IN} is empty")
endif()
message(STATUS "picowire: embedding asset ${NAME} from ${IN}, ${n} bytes, sha256 ${sha}")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){24})" "\\1\n  " body "${body}")
# Optional: -DSETUP=<file>, the setup page an unconfigured board serves (asset setup.html.gz,
# build/setup.html.gz); without it the firmware has none (pw_asset_setup_len 0).
set(setup_n 0)
set(setup_body "0")
if(DEFINED SETUP AND NOT "${SETUP}" STREQUAL "")
  if(NOT EXISTS "${SETUP}")
    message(FATAL_ERROR "picowire: the setup page ${SETUP} does not exist: build it first (npm run build, or "
                        "npx tsx tools/build/setup.ts)")
  endif()
  file(READ "${SETUP}" setup_hex HEX)
  string(LENGTH "${setup_hex}" setup_hex_len)
  math(EXPR setup_n "${setup_hex_len} / 2")
  message(STATUS "picowire: embedding asset setup.html.gz from ${SETUP}, ${setup_n} bytes")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," setup_body "${setup_hex}")
  string(REGEX REPLACE "((0x..,){24})" "\\1\n  " setup_body "${setup_body}")
endif()
string(CONCAT c "/* GENERATED at build time from ${IN}: do not edit. */\n#include \"pw_assets_data.h\"\n\n"
      "const char pw_asset_page_name[] = \"${NAME}\";\n"
      "const char pw_asset_page_sha256[] = \"${sha}\";\n"
      "const uint32_t pw_asset_page_len = ${n}u;\n"
      "__attribute__((aligned(4))) const uint8_t pw_asset_page[${n}] = {\n  ${body}\n};\n"
      "const uint32_t pw_asset_setup_len = ${setup_n}u;\n"
      "__attribute__((aligned(4))) const uint8_t pw_asset_setup[] = {\n  ${setup_body}\n};\n")
string(CONCAT h "/* GENERATED at build time: the dashboard page embedded in the firmware (native/pico/pw_assets.c). */\n"
      "#ifndef PW_ASSETS_DATA_H\n#define PW_ASSETS_DATA_H\n#include <stdint.h>\n"
      "extern const char pw_asset_page_name[];\nextern const char pw_asset_page_sha256[];\n"
      "extern const uint32_t pw_asset_page_len;\nextern const uint8_t pw_asset_page[];\n"
      "extern const uint32_t pw_asset_setup_len;\nextern const uint8_t pw_asset_setup[];\n#endif\n")
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/write_if_changed.cmake")
pw_write_if_changed("${OUT_C}" "${c}")
pw_write_if_changed("${OUT_H}" "${h}")
