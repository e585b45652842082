#!/usr/bin/env bash
# Installs the build into a temporary prefix and uses it as a user would:
#   test_install.sh BUILD_DIR BUTTERFLY_PNG
# - cmake --install: the files where GNUInstallDirs puts them (binary,
#   headers, libfdiwn.so with its SONAME, CMake package, pkg-config file,
#   weights, man page, bash completion); DESTDIR honoured;
# - a CMake project (find_package(fdiwn 0.2), fdiwn::fdiwn) and a plain
#   pkg-config build of upscale_image.cpp upscale the butterfly x2;
# - the installed fdiwn, moved elsewhere with its prefix (nothing points
#   back into the build tree), upscales with its installed weights and
#   `fdiwn info` names them.
set -euo pipefail
build="$(cd "$1" && pwd)"
butterfly="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "test_install: $*" >&2; exit 1; }

libdir="$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for f in bin/fdiwn include/fdiwn/upscaler.hpp include/fdiwn/version.hpp include/fdiwn/export.hpp \
         "$libdir/libfdiwn.so" "$libdir/cmake/fdiwn/fdiwnConfig.cmake" \
         "$libdir/cmake/fdiwn/fdiwnConfigVersion.cmake" "$libdir/pkgconfig/fdiwn.pc" \
         share/fdiwn/weights/FDIWNx2.pt share/fdiwn/weights/FDIWNx3.pt \
         share/fdiwn/weights/FDIWNx4.pt share/man/man1/fdiwn.1.gz \
         share/bash-completion/completions/fdiwn; do
  [[ -e "$prefix/$f" ]] || fail "not installed: $f"
done
soname="$(readelf -d "$prefix/$libdir/libfdiwn.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[[ "$soname" == libfdiwn.so.0.* && -e "$prefix/$libdir/$soname" ]] || fail "SONAME: '$soname'"
# Only the public API is exported: nothing of the engine's internals.
if nm -D --defined-only "$prefix/$libdir/libfdiwn.so" | c++filt | grep -q "fdiwn::engine::"; then
  fail "libfdiwn.so exports the engine's internals"
fi
DESTDIR="$work/stage" cmake --install "$build" --prefix /usr/local > /dev/null
[[ -e "$work/stage/usr/local/$libdir/libfdiwn.so" ]] || fail "DESTDIR not honoured"

# A CMake project.
cmake -S "$here/cmake" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release > "$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; fail "find_package"; }
cmake --build "$work/cmake-build" > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "CMake consumer build"; }
"$work/cmake-build/upscale_image" "$butterfly" "$work/cmake.png"

# A pkg-config build.
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
weights="$(pkg-config --variable=weightsdir fdiwn)"
# shellcheck disable=SC2046 # the flags are words
g++ -std=c++17 -O1 "$here/upscale_image.cpp" -o "$work/pc_upscale" \
    -DFDIWN_WEIGHTS_DIR="\"$weights\"" $(pkg-config --cflags --libs fdiwn) \
    -Wl,-rpath,"$prefix/$libdir"
"$work/pc_upscale" "$butterfly" "$work/pc.png"
cmp "$work/cmake.png" "$work/pc.png" || fail "the two consumers disagree"

# The installed command, moved with its prefix.
mv "$prefix" "$work/moved"
if readelf -d "$work/moved/bin/fdiwn" "$work/moved/$libdir/fdiwn/libfdiwn_cli.so" |
   grep -E "R(UN)?PATH" | grep -q "$build"; then
  fail "the installed files point into the build tree"
fi
info="$("$work/moved/bin/fdiwn" info)"
grep -q "$work/moved/share/fdiwn/weights" <<< "$info" || fail "info does not name the installed weights: $info"
"$work/moved/bin/fdiwn" -q upscale -i "$butterfly" -o "$work/cli.png" -s 2
cmp "$work/cli.png" "$work/cmake.png" || fail "the installed command and the library disagree"
echo "test_install: ok ($soname, $libdir)"
