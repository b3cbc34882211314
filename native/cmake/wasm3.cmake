# wasm3 for picowire: the interpreter as a static library built from a wasm3 source tree outside this
# repository, and the host + wasm3 engine + embedded core as one library. Included by native/CMakeLists.txt
# (POSIX) and usable from the Pico build:
#
#   include(native/cmake/wasm3.cmake)
#   pw_add_wasm3(wasm3_rp2040)                               # the interpreter, RP2040 configuration
#   pw_wasm3_library(picowire_wasm3 ${WASM} ${GENDIR} wasm3_rp2040)   # host + engine + core bytes
#
# WASM3_PATH (cache variable, initialised from the environment variable of the same name) is the root of
# a wasm3 checkout (https://github.com/wasm3/wasm3): the sources are taken from ${WASM3_PATH}/source and
# never copied into this repository. PW_HAVE_WASM3 tells whether it is usable.
#
# Also a script (run by the build): cmake -DPW_EMBED_IN=core.wasm -DPW_EMBED_OUT=core_wasm.c -P wasm3.cmake
# writes the module bytes as `const uint8_t pw_core_wasm[]` and `const uint32_t pw_core_wasm_len`.

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT PW_EMBED_IN OR NOT PW_EMBED_OUT)
    message(FATAL_ERROR "wasm3.cmake as a script needs -DPW_EMBED_IN=file.wasm -DPW_EMBED_OUT=file.c")
  endif()
  file(READ "${PW_EMBED_IN}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR len "${hex_len} / 2")
  file(SHA256 "${PW_EMBED_IN}" sha)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # 16 bytes a line
  string(REGEX REPLACE "((0x..,){16})" "\\1\n  " bytes "${bytes}")
  string(CONCAT text
    "/* GENERATED at build time from ${PW_EMBED_IN} (sha256 ${sha}); do not edit. */\n"
    "#include <stdint.h>\n"
    "const uint32_t pw_core_wasm_len = ${len}u;\n"
    "const uint8_t pw_core_wasm[${len}] = {\n  ${bytes}\n};\n")
  include("${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake")
  pw_write_if_changed("${PW_EMBED_OUT}" "${text}")
  return()
endif()

get_filename_component(PW_NATIVE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(PW_WASM3_CMAKE "${CMAKE_CURRENT_LIST_FILE}")

set(WASM3_PATH "$ENV{WASM3_PATH}" CACHE PATH
    "root of a wasm3 source tree (github.com/wasm3/wasm3); empty: no wasm3 engine")
set(PW_HAVE_WASM3 OFF)
set(PW_WASM3_WHY "")
if(NOT WASM3_PATH)
  set(PW_WASM3_WHY "WASM3_PATH is not set (a wasm3 checkout, e.g. git clone https://github.com/wasm3/wasm3)")
elseif(NOT EXISTS "${WASM3_PATH}/source/wasm3.h")
  set(PW_WASM3_WHY "WASM3_PATH=${WASM3_PATH} has no source/wasm3.h")
else()
  set(PW_HAVE_WASM3 ON)
endif()

# The board's configuration (knobs in wasm3's source/m3_config.h; the firmware and posix-wasm3 suites load the
# whole core with it, `npx tsx tools/bench/emu.ts` measures its speed on the RP2040):
#   d_m3ValCtrlDepth=32         Binaryen nests a byte parser's if/else chain 17+ blocks deep (default 16 fails)
#   d_m3HasFloat=0              no float ops in the core; removes an f64 argument from every op (~20% faster)
#   d_m3CodePageAlignSize=1024  code pages grow in 1 KiB steps, not 32 KiB
#   d_m3MaxFunctionStackHeight=128  the core's largest function fits (a function above it does not load)
# PUBLIC: the engine reads wasm3's internal structures, so it must see the same definitions.
# d_m3MaxFunctionStackHeight bounds a function's locals + operand slots at compile time (a function
# above it does not load: the engine names it); the compiler's tables in every runtime grow with it.
set(PW_WASM3_STACK_HEIGHT 128 CACHE STRING "wasm3 d_m3MaxFunctionStackHeight (128: the core's largest function fits)")
# d_m3ValCtrlDepth bounds block nesting (Binaryen turns a switch over N keys into a br_table inside N+1
# nested blocks); a deeper function does not load ("compiling function overran its stack height limit",
# the engine names the function). The core keeps its deepest function under 32 (the settings parser is
# split into two switches for that); raising it costs C stack while loading only (the validator's
# 16-byte frames, the compiler's recursion per nested block), no heap.
set(PW_WASM3_CTRL_DEPTH 32 CACHE STRING "wasm3 d_m3ValCtrlDepth (wasm3 default 16; the board uses 32, and the core keeps its deepest function under it)")
# d_m3CodePageAlignSize: a code page's size step; a function's code never spans pages, so the tail of
# each page is lost when the next function does not fit (measured on the RP2040: native/README.md).
set(PW_WASM3_CODE_PAGE 1024 CACHE STRING "wasm3 d_m3CodePageAlignSize in bytes (1024: less lost at the end of each page than the default 32 KiB)")
# OFF: compile a function at its first call instead of at load (less RAM for code never run, but the
# RAM then grows while the core runs; native/README.md "In the emulator" has the figures)
option(PW_WASM3_COMPILE_AT_LOAD "wasm3: compile every function of the core at load" ON)
# d_m3MaxDuplicateFunctionImpl=1: wasm3 keeps room for 3 names per function (imports, exports, the name
# section), 4 bytes each in every one of the core's ~320 functions; the core exports no function twice
# and the engine finds exports by their one name (docs/BOARD-PERFORMANCE.md: 2.6 KB of board RAM)
set(PW_WASM3_DEFINITIONS
    d_m3MaxDuplicateFunctionImpl=1
    d_m3ValCtrlDepth=${PW_WASM3_CTRL_DEPTH}
    d_m3HasFloat=0
    d_m3CodePageAlignSize=${PW_WASM3_CODE_PAGE}
    d_m3MaxFunctionStackHeight=${PW_WASM3_STACK_HEIGHT}
    PW_WASM3_COMPILE_AT_LOAD=$<BOOL:${PW_WASM3_COMPILE_AT_LOAD}>)

# pw_add_wasm3(TARGET [EXTRA_DEFINITIONS...]): wasm3's interpreter (no WASI, no libc/tracer APIs) as a
# static library, with PW_WASM3_DEFINITIONS and any extra ones. On the board pass
# d_m3MaxNativeStack=<bytes of the stack the interpreter runs on, minus a margin>: wasm3's default assumes
# an 8 MiB stack, so without it deep wasm recursion overflows the C stack instead of trapping.
function(pw_add_wasm3 target)
  if(NOT PW_HAVE_WASM3)
    message(FATAL_ERROR "picowire: cannot build wasm3: ${PW_WASM3_WHY}")
  endif()
  set(names m3_bind.c m3_code.c m3_compile.c m3_core.c m3_env.c m3_exec.c m3_function.c m3_info.c
            m3_module.c m3_parse.c m3_validate.c)
  set(srcs "")
  foreach(n IN LISTS names)
    if(EXISTS "${WASM3_PATH}/source/${n}")
      list(APPEND srcs "${WASM3_PATH}/source/${n}")
    elseif(NOT n STREQUAL "m3_validate.c" AND NOT n STREQUAL "m3_info.c")
      message(FATAL_ERROR "picowire: ${WASM3_PATH}/source/${n} is missing: not a wasm3 source tree?")
    endif()
  endforeach()
  add_library(${target} STATIC ${srcs})
  target_include_directories(${target} SYSTEM PUBLIC "${WASM3_PATH}/source")
  target_compile_definitions(${target} PUBLIC ${PW_WASM3_DEFINITIONS} ${ARGN})
  # not our code: no warnings; the interpreter's speed depends on the optimiser (tail calls between ops)
  target_compile_options(${target} PRIVATE -w $<$<NOT:$<CONFIG:Debug>>:-O2>)
  # aligned 2/4/8-byte memcpy without a call (wasm3's loads and stores; see the header). wasm3's own
  # files only: the target also compiles the SDK's interface sources, among them its memcpy wrappers.
  set_property(SOURCE ${srcs} APPEND PROPERTY COMPILE_OPTIONS -include "${PW_NATIVE_DIR}/host/wasm3_fast.h")
endfunction()

# pw_wasm3_library(TARGET WASM GENDIR WASM3_TARGET): the engine-neutral host + the wasm3 engine + the
# bytes of WASM embedded as a const array (GENDIR/picowire_core_wasm.c) and their SHA-256
# (GENDIR/picowire_core_info.h, as the wasm2c build records it), linked with WASM3_TARGET.
function(pw_wasm3_library target wasm gendir wasm3_target)
  file(MAKE_DIRECTORY "${gendir}")
  add_custom_command(
    OUTPUT "${gendir}/picowire_core_wasm.c"
    COMMAND "${CMAKE_COMMAND}" "-DPW_EMBED_IN=${wasm}" "-DPW_EMBED_OUT=${gendir}/picowire_core_wasm.c"
            -P "${PW_WASM3_CMAKE}"
    DEPENDS "${wasm}" "${PW_WASM3_CMAKE}"
    COMMENT "picowire: embedding ${wasm} for wasm3"
    VERBATIM)
  add_custom_command(
    OUTPUT "${gendir}/picowire_core_info.h"
    COMMAND "${CMAKE_COMMAND}" "-DWASM=${wasm}" "-DOUT=${gendir}/picowire_core_info.h"
            -P "${PW_NATIVE_DIR}/cmake/core_info.cmake"
    DEPENDS "${wasm}" "${PW_NATIVE_DIR}/cmake/core_info.cmake"
    COMMENT "picowire: recording the SHA-256 of ${wasm}"
    VERBATIM)
  add_library(${target} STATIC
    "${PW_NATIVE_DIR}/host/pw_host.c" "${PW_NATIVE_DIR}/host/pw_imports.c" "${PW_NATIVE_DIR}/host/pw_boot.c" "${PW_NATIVE_DIR}/host/pw_sha256.c"
    "${PW_NATIVE_DIR}/host/engine_wasm3.c" "${PW_NATIVE_DIR}/host/engine_wasm3_flash.c"
    "${gendir}/picowire_core_wasm.c" "${gendir}/picowire_core_info.h")
  target_include_directories(${target} PUBLIC "${PW_NATIVE_DIR}/host" PRIVATE "${gendir}")
  target_compile_definitions(${target} PUBLIC PW_WASM3_EMBEDDED=1)
  target_link_libraries(${target} PUBLIC ${wasm3_target})
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    set_source_files_properties("${PW_NATIVE_DIR}/host/pw_host.c" "${PW_NATIVE_DIR}/host/pw_imports.c" "${PW_NATIVE_DIR}/host/pw_boot.c"
      "${PW_NATIVE_DIR}/host/pw_sha256.c" "${PW_NATIVE_DIR}/host/engine_wasm3.c"
      "${PW_NATIVE_DIR}/host/engine_wasm3_flash.c" PROPERTIES COMPILE_OPTIONS "-Wall;-Wextra;-Wno-unused-parameter")
  endif()
endfunction()

# pw_wasm3_hot_in_ram(TARGET LIST): the functions LIST names (one a line; # starts a comment) go to RAM:
# in TARGET's archive their sections (.text.NAME: the SDK compiles with -ffunction-sections) become
# .time_critical.wasm3.NAME, which the SDK's linker script copies to RAM at boot, as with the SDK's own
# __time_critical_func. A name no object holds changes nothing. The list is written by
# tools/bench/xip.ts --write-hot-list; a new list reconfigures and rebuilds the archive.
function(pw_wasm3_hot_in_ram target list)
  file(STRINGS "${list}" names REGEX "^[A-Za-z_]")
  if(NOT names)
    message(FATAL_ERROR "picowire: ${list} names no function")
  endif()
  set(args "")
  foreach(n IN LISTS names)
    list(APPEND args "--rename-section" ".text.${n}=.time_critical.wasm3.${n}")
  endforeach()
  add_custom_command(TARGET ${target} POST_BUILD COMMAND "${CMAKE_OBJCOPY}" ${args} "$<TARGET_FILE:${target}>"
    COMMENT "picowire: ${list}: the hot wasm3 functions to RAM" VERBATIM)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${list}")
  get_target_property(srcs ${target} SOURCES)
  list(FILTER srcs INCLUDE REGEX "^${WASM3_PATH}/source/")
  set_property(SOURCE ${srcs} APPEND PROPERTY OBJECT_DEPENDS "${list}")
endfunction()
