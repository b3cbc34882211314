# Finds the Raspberry Pi Pico SDK and pulls in its pico_sdk_init.cmake. Include this BEFORE project():
# the SDK has to set up the ARM toolchain file first. Our own small lookup, in the spirit of the
# SDK's external/pico_sdk_import.cmake (not a copy): the SDK is never downloaded, only found.
#
#   cmake -DPICO_SDK_PATH=$PICO_SDK_PATH ...      (or: export PICO_SDK_PATH=...; docs/FIRMWARE.md)
#
# Also forwards PICO_TOOLCHAIN_PATH and picotool_DIR from the environment, so that a configured
# picotool is used and the SDK never tries to fetch one.
if(DEFINED ENV{PICO_SDK_PATH} AND NOT PICO_SDK_PATH)
  set(PICO_SDK_PATH "$ENV{PICO_SDK_PATH}")
endif()
set(PICO_SDK_PATH "${PICO_SDK_PATH}" CACHE PATH "Raspberry Pi Pico SDK checkout (2.2.0)")
if(NOT PICO_SDK_PATH)
  message(FATAL_ERROR "picowire: set PICO_SDK_PATH (cmake -DPICO_SDK_PATH=... or the environment) to a "
                      "pico-sdk 2.2.0 checkout with lib/cyw43-driver and lib/lwip filled in; see native/README.md")
endif()
get_filename_component(PICO_SDK_PATH "${PICO_SDK_PATH}" REALPATH BASE_DIR "${CMAKE_BINARY_DIR}")
if(NOT EXISTS "${PICO_SDK_PATH}/pico_sdk_init.cmake")
  message(FATAL_ERROR "picowire: ${PICO_SDK_PATH} is not a Pico SDK (no pico_sdk_init.cmake)")
endif()
foreach(lib cyw43-driver lwip)
  if(NOT EXISTS "${PICO_SDK_PATH}/lib/${lib}/README.md" AND NOT EXISTS "${PICO_SDK_PATH}/lib/${lib}/README")
    message(FATAL_ERROR "picowire: ${PICO_SDK_PATH}/lib/${lib} is empty: the Pico W needs it (see native/README.md)")
  endif()
endforeach()
if(DEFINED ENV{PICO_TOOLCHAIN_PATH} AND NOT PICO_TOOLCHAIN_PATH)
  set(PICO_TOOLCHAIN_PATH "$ENV{PICO_TOOLCHAIN_PATH}")
endif()
if(DEFINED ENV{picotool_DIR} AND NOT picotool_DIR)
  set(picotool_DIR "$ENV{picotool_DIR}" CACHE PATH "directory with picotoolConfig.cmake")
endif()
include("${PICO_SDK_PATH}/pico_sdk_init.cmake")
