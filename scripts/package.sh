#!/usr/bin/env bash
# Builds the Debian package fdiwn_<version>_amd64.deb in build-deb/: a
# release build installed under /usr (Debian's multiarch library folder),
# packaged by CPack with its dependencies found by dpkg-shlibdeps; then
# lintian, if it is installed, reviews it (see README "Install" for the
# warnings it gives and why they stay).
#
#   scripts/package.sh            # then: sudo apt-get install ./build-deb/fdiwn_*.deb
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FDIWN_DEB_BUILD_DIR:-$ROOT/build-deb}"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DFDIWN_BUILD_TESTS=OFF > /dev/null
cmake --build "$BUILD" -j "$(nproc)"
(cd "$BUILD" && cpack -G DEB)
deb="$(ls "$BUILD"/fdiwn_*.deb)"
echo "package.sh: $deb"
if command -v lintian > /dev/null; then
  lintian --no-tag-display-limit "$deb" || true
fi
