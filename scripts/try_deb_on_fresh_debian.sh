#!/usr/bin/env bash
# Installs the Debian package on a fresh minimal Debian 12 and uses it: a
# `debootstrap --variant=minbase bookworm` tree (no compiler, no Python,
# nothing of fdiwn's dependencies), `apt-get install ./fdiwn_*.deb` inside it
# (so apt must find every runtime dependency from the package's Depends),
# then `fdiwn info` and an upscale of the bundled butterfly, compared byte
# for byte with this checkout's build when there is one; then the package is
# removed and its files must be gone.
#
# Not one of the tests: it needs root, debootstrap and a Debian mirror, and
# downloads about 400 packages (a few minutes).
#
#   scripts/package.sh && sudo scripts/try_deb_on_fresh_debian.sh [PATH/TO/fdiwn_*.deb]
#   (MIRROR=http://... to use another mirror; KEEP=1 to keep the tree)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deb="${1:-$(ls "$ROOT"/build-deb/fdiwn_*.deb 2> /dev/null | head -1)}"
[[ -f "$deb" ]] || { echo "try_deb: no package (run scripts/package.sh first)" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "try_deb: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap > /dev/null || { echo "try_deb: apt-get install debootstrap" >&2; exit 2; }

work="$(mktemp -d)"
tree="$work/debian12"
cleanup() {
  mountpoint -q "$tree/proc" && umount "$tree/proc"
  [[ "${KEEP:-0}" == 1 ]] && echo "try_deb: tree kept in $tree" || rm -rf "$work"
}
trap cleanup EXIT

echo "try_deb: debootstrap minbase bookworm into $tree"
debootstrap --variant=minbase bookworm "$tree" "${MIRROR:-http://deb.debian.org/debian}" \
  > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
cp /etc/resolv.conf "$tree/etc/resolv.conf"
mount -t proc proc "$tree/proc"
cp "$deb" "$tree/tmp/"
cp "$ROOT/tests/data/Set5/LR/x4/butterfly.png" "$tree/tmp/"
in_tree() { chroot "$tree" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  DEBIAN_FRONTEND=noninteractive /bin/bash -euo pipefail -c "$1"; }

echo "try_deb: before: $(in_tree 'dpkg-query -f "\${Status}\n" -W | grep -c "ok installed"') packages;" \
  "compiler: $(in_tree 'command -v gcc || echo none'), python3: $(in_tree 'command -v python3 || echo none')"
in_tree "apt-get update -q > /dev/null && apt-get install -y -q /tmp/$(basename "$deb")" \
  > "$work/install.log" 2>&1 || { tail -30 "$work/install.log"; exit 1; }
grep -E "newly installed" "$work/install.log" | sed 's/^/try_deb: apt: /'
in_tree 'fdiwn --version && fdiwn info | head -4'
in_tree 'cd /tmp && fdiwn upscale -i butterfly.png -o butterfly_x4.png -s 4'
if [[ -x "$ROOT/build/bin/fdiwn" ]]; then
  "$ROOT/build/bin/fdiwn" upscale -q -i "$ROOT/tests/data/Set5/LR/x4/butterfly.png" \
    -o "$work/host_x4.png" -s 4
  cmp "$work/host_x4.png" "$tree/tmp/butterfly_x4.png"
  echo "try_deb: the installed fdiwn's output equals this build's"
fi
in_tree 'apt-get remove -y -q fdiwn > /dev/null 2>&1 && ! test -e /usr/bin/fdiwn && ! test -e /usr/share/fdiwn'
echo "try_deb: installed, used and removed on a fresh Debian 12: ok"
