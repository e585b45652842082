#!/usr/bin/env bash
# Writes the man page fdiwn(1) from the program's own --help, so that the two
# cannot drift: help2man runs `fdiwn --help` and `--version` for the top,
# then each subcommand's --help becomes a section of its own, and
# docs/man/fdiwn.h2m adds the exit status, environment and examples.
#
#   scripts/make_manpage.sh FDIWN_BINARY OUT.1
set -euo pipefail
fdiwn="$1"
out="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
include="$(mktemp)"
trap 'rm -f "$include"' EXIT
# roff: backslashes escaped, and a line starting with . or ' kept as text.
as_roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
for cmd in upscale bench metrics info; do
  {
    echo "[${cmd^^} COMMAND]"
    echo ".nf"
    "$fdiwn" "$cmd" --help | as_roff
    echo ".fi"
    echo
  } >> "$include"
done
cat "$root/docs/man/fdiwn.h2m" >> "$include"
help2man --no-info --section 1 --source "fdiwn" --include "$include" \
  --name "FDIWN single-image super-resolution (x2, x3, x4) on the CPU" \
  --output "$out.tmp" "$fdiwn"
mv "$out.tmp" "$out"
