#!/usr/bin/env bash
# Builds the POSIX native host (C host + wasm2c engine + the core translated from build/picowire.wasm)
# into build/native-posix/ and prints the binary's path on the last line of stdout.
#   tools/native/build-posix.sh            configure if needed, then build (incremental)
#   PW_SANITIZE=1 tools/native/build-posix.sh   with ASan/UBSan (into build/native-posix-asan/)
# Exits non-zero with a clear message when wasm2c, cmake, a C compiler or the core is missing.
set -euo pipefail

here="${BASH_SOURCE[0]%/*}"
[[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
root="$(cd "$here/../.." && pwd)"
out="$root/build/native-posix"
sanitize=OFF
if [[ "${PW_SANITIZE:-0}" == "1" ]]; then
  out="$root/build/native-posix-asan"
  sanitize=ON
fi

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
if ((${#missing[@]})); then
  {
    echo "build-posix: cannot build the native host; missing:"
    for m in "${missing[@]}"; do echo "  - $m"; done
    echo "install with: apt-get install -y wabt cmake gcc"
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
    -DPICOWIRE_WASM="$root/build/picowire.wasm" >&2
fi
cmake --build "$out" --parallel >&2
echo "$out/picowire-posix"
