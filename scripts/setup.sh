#!/usr/bin/env bash
# Installs what fdiwn needs on Debian 12 (apt-get, only what is missing) and
# builds it (CMake, Release) in ./build.
#
#   scripts/setup.sh            the tool
#   scripts/setup.sh --tests    the tool, the tests and what they need
#
# Runs as root, or as a user with sudo. Safe to run again: it installs
# nothing that is already there and rebuilds only what changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${FDIWN_BUILD_DIR:-$ROOT/build}"

with_tests=OFF
for arg in "$@"; do
  case "$arg" in
    --tests) with_tests=ON ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# ocl-icd-opencl-dev: Debian's oneDNN CMake package looks for OpenCL (only
# recommended by libdnnl-dev, so --no-install-recommends would leave it out).
packages=(build-essential cmake pkg-config ccache help2man
          libtorch-dev libdnnl-dev ocl-icd-opencl-dev libopencv-dev libcli11-dev libspdlog-dev
          nlohmann-json3-dev libexiv2-dev libwebp-dev libheif-dev libjpeg-dev)
if [[ $with_tests == ON ]]; then
  # python3-torch: the weight converter and its test (run by /usr/bin/python3);
  # clang and its runtime libraries: the libFuzzer targets (scripts/fuzz.sh).
  # The Slurm test installs slurm-wlm and munge itself.
  # libimage-exiftool-perl: an independent reader of the metadata kept;
  # libheif-examples: heif-enc and heif-convert make and read HEIC/AVIF;
  # ffmpeg: makes and reads the video the --frames pipeline runs on;
  # man-db and bash-completion: the man page rendered, the completion tried.
  packages+=(libgtest-dev python3-torch clang libclang-rt-14-dev libimage-exiftool-perl
            libheif-examples ffmpeg man-db bash-completion)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    # Without a terminal (CI, cron) sudo must not wait for a password.
    if [[ -t 0 ]]; then sudo=(sudo); else sudo=(sudo -n); fi
  else
    echo "setup.sh: these packages are missing and installing them needs root:" >&2
    echo "  ${missing[*]}" >&2
    echo "Run this script as root, or install them with: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DFDIWN_BUILD_TESTS="$with_tests"
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
echo "setup.sh: built $BUILD_DIR/bin/fdiwn"
