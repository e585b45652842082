#!/usr/bin/env bash
# The Debian package of a build tree (CPack, as scripts/package.sh makes it):
#   test_deb.sh BUILD_DIR BUTTERFLY_PNG
# - it builds; dpkg-deb -c lists the binary, headers, library, CMake and
#   pkg-config files, weights, man page and completion;
# - its Depends come from dpkg-shlibdeps (libtorch1.13, OpenCV's runtime
#   libraries, libheif1, ...);
# - unpacked anywhere (dpkg-deb -x; not installed: the test leaves the
#   system as it was), its fdiwn upscales the butterfly with its weights.
set -euo pipefail
build="$(cd "$1" && pwd)"
butterfly="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "test_deb: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" > "$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }
deb="$(ls "$work"/out/fdiwn_*.deb)"
listing="$(dpkg-deb -c "$deb" | awk '{print $6}')"
for f in ./usr/bin/fdiwn ./usr/include/fdiwn/upscaler.hpp "libfdiwn.so.0.2" \
         "cmake/fdiwn/fdiwnConfig.cmake" "pkgconfig/fdiwn.pc" \
         ./usr/share/fdiwn/weights/FDIWNx4.pt ./usr/share/man/man1/fdiwn.1.gz \
         ./usr/share/bash-completion/completions/fdiwn; do
  grep -qF -- "$f" <<< "$listing" || fail "not in the package: $f"
done
depends="$(dpkg-deb -f "$deb" Depends)"
for d in libtorch1.13 libopencv-core406 libopencv-imgcodecs406 libheif1 libexiv2-27 libc6; do
  grep -q "$d" <<< "$depends" || fail "Depends lacks $d: $depends"
done
dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/bin/fdiwn" -q upscale -i "$butterfly" -o "$work/x2.png" -s 2
[[ -s "$work/x2.png" ]] || fail "the packaged fdiwn wrote nothing"
echo "test_deb: ok ($(basename "$deb"); Depends: $depends)"
