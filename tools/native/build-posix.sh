#!/usr/bin/env bash
# Builds the POSIX native host (C host + wasm2c engine + the core translated from build/picowire.wasm)
# into build/native-posix/ and prints the binary's path on the last line of stdout.
#   tools/native/build-posix.sh            configure if needed, then build (incremental)
#   tools/native/build-posix.sh --engine wasm3   also the wasm3 engine from the wasm3 source tree in
#                                          $WASM3_PATH; prints the path of picowire-posix-wasm3
#   PW_SANITIZE=1 tools/native/build-posix.sh   with ASan/UBSan (into build/native-posix-asan/)
# Exits non-zero with a clear message when wasm2c, cmake, a C compiler or the core is missing (3 also when
# --engine wasm3 is asked for and WASM3_PATH is not set or is not a wasm3 tree).
set -euo pipefail

engine=wasm2c
while (($#)); do
  case "$1" in
    --engine) engine="${2:-}"; shift 2 || { echo "build-posix: --engine needs wasm2c or wasm3" >&2; exit 2; } ;;
    --engine=*) engine="${1#--engine=}"; shift ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build-posix: unknown argument $1 (expected --engine wasm2c|wasm3)" >&2; exit 2 ;;
  esac
done
if [[ "$engine" != wasm2c && "$engine" != wasm3 ]]; then
  echo "build-posix: --engine $engine: expected wasm2c or wasm3" >&2
  exit 2
fi

here="${BASH_SOURCE[0]%/*}"
[[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
root="$(cd "$here/../.." && pwd)"
out="$root/build/native-posix"
sanitize=OFF
if [[ "${PW_SANITIZE:-0}" == "1" ]]; then
  out="$root/build/native-posix-asan"
  sanitize=ON
fi
# the variables `npm run deps` saved (only those the user has not set)
[[ -f "$root/.deps/env.sh" ]] && . "$root/.deps/env.sh"

missing=()
command -v wasm2c >/dev/null 2>&1 || missing+=("wasm2c (Debian package: wabt)")
command -v cmake >/dev/null 2>&1 || missing+=("cmake (Debian package: cmake)")
cc="${CC:-}"
if [[ -z "$cc" ]]; then
  for candidate in cc gcc clang; do
    if command -v "$candidate" >/dev/null 2>&1; then cc="$candidate"; break; fi
  done
fi
if [[ -z "$cc" ]] || ! command -v "$cc" >/dev/null 2>&1; then
  missing+=("a C compiler (Debian package: gcc or clang)")
fi
wasm3_path=""
if [[ "$engine" == wasm3 ]]; then
  if [[ -z "${WASM3_PATH:-}" ]]; then
    missing+=("WASM3_PATH: the root of a wasm3 source tree (npm run deps -- firmware-deps.tar.xz, or export WASM3_PATH=DIR of a wasm3 checkout)")
  elif [[ ! -f "$WASM3_PATH/source/wasm3.h" ]]; then
    missing+=("a wasm3 source tree at WASM3_PATH=$WASM3_PATH (no source/wasm3.h there)")
  else
    wasm3_path="$(cd "$WASM3_PATH" && pwd)"
  fi
fi
if ((${#missing[@]})); then
  {
    echo "build-posix: cannot build the native host (engine $engine); missing:"
    for m in "${missing[@]}"; do echo "  - $m"; done
    if [[ "${missing[*]}" == *"Debian package"* ]]; then echo "install with: apt-get install -y wabt cmake gcc"; fi
  } >&2
  exit 3
fi

if [[ ! -f "$root/build/picowire.wasm" ]]; then
  echo "build-posix: $root/build/picowire.wasm is missing: build the core first (npx asc assembly/index.ts --target release)" >&2
  exit 4
fi

mkdir -p "$out"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$out/.build.lock" # two test workers building at once would race inside one CMake tree
  flock 9
fi

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [[ ! -f "$out/CMakeCache.txt" ]]; then
  cmake -S "$root/native" -B "$out" "${generator[@]}" -DCMAKE_C_COMPILER="$cc" -DPW_SANITIZE="$sanitize" \
    -DPICOWIRE_WASM="$root/build/picowire.wasm" ${wasm3_path:+-DWASM3_PATH="$wasm3_path"} >&2
elif [[ -n "$wasm3_path" ]] && ! grep -qxF "WASM3_PATH:PATH=$wasm3_path" "$out/CMakeCache.txt"; then
  cmake -S "$root/native" -B "$out" -DWASM3_PATH="$wasm3_path" >&2 # first wasm3 build in this tree, or another tree
fi
if [[ "$engine" == wasm3 ]]; then
  # only what the wasm3 engine needs: a wasm2c breakage must not hide wasm3's results (and vice versa)
  targets=(picowire-posix-wasm3 pw_host_test pw_boot_test)
  if cmake --build "$out" --target help 2>/dev/null | grep -q "picowire-posix-wasm3-trap-core"; then
    targets+=(picowire-posix-wasm3-trap-core)
  fi
  cmake --build "$out" --parallel --target "${targets[@]}" >&2
else
  cmake --build "$out" --parallel >&2
fi
if [[ "$engine" == wasm3 ]]; then
  if [[ ! -x "$out/picowire-posix-wasm3" ]]; then
    echo "build-posix: $out/picowire-posix-wasm3 was not built (see the CMake output above)" >&2
    exit 1
  fi
  echo "$out/picowire-posix-wasm3"
else
  echo "$out/picowire-posix"
fi
