#!/usr/bin/env bash
# Puts wufix into an existing WinPE boot.wim on Linux with wimlib (Debian: wimtools), no mounting
# (no FUSE, no root):
#   /wufix/wufix.exe                  the exe (X:\wufix\wufix.exe once booted)
#   /Windows/System32/startnet.cmd    winpe/startnet.cmd: wpeinit, then the wufix menu
# Both are replaced when present. The WIM is updated in place by `wimupdate` (new data appended,
# then a new header; the boot index and the other images are kept). A file replaced again and
# again leaves its old data in the WIM: `wimoptimize boot.wim` compacts it.
#
#   winpe/add-to-wim.sh <boot.wim> <wufix.exe> [<image index>]
#
# Which image: a WIM holds numbered images, and the one WinPE boots is its "boot index" (wiminfo's
# "Boot Index"). Without an index argument the boot index is used:
# - ADK media (copype ... media/sources/boot.wim), WinRE's Winre.wim and most rescue PEs (Hiren's,
#   Medicat) hold one image: index 1.
# - A Windows installation ISO's sources/boot.wim holds two: 1 "Microsoft Windows PE" (plain WinPE,
#   not booted) and 2 "Microsoft Windows Setup", the boot index, 2. Setup boots straight into
#   setup.exe (HKLM\System\Setup\CmdLine), not startnet.cmd: press Shift+F10 there and run
#   `startnet menu` (or X:\wufix\wufix.exe directly).
# A WIM with no boot index and one image gets 1; with several, give the index.
# An image with Windows/System32/winpeshl.ini runs its apps instead of startnet.cmd; this script
# warns about it and leaves it alone.
# Windows (ADK) equivalent building new media: winpe\add-to-winpe.cmd.
set -euo pipefail

usage() {
  echo "usage: $0 <boot.wim> <wufix.exe> [<image index>]" >&2
  exit 2
}
die() {
  echo "add-to-wim: error: $*" >&2
  exit 1
}

if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
WIM=$1
EXE=$2
INDEX=${3:-}
STARTNET=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/startnet.cmd

# Windows paths are case-insensitive: update an image's "windows/system32" where it is spelled so.
export WIMLIB_IMAGEX_IGNORE_CASE=1

command -v wimupdate >/dev/null || die "wimupdate not found (Debian/Ubuntu: apt-get install wimtools)"
[ -f "$WIM" ] || die "$WIM: no such file"
[ -f "$EXE" ] || die "$EXE: no such file"
[ -f "$STARTNET" ] || die "$STARTNET: no such file (keep this script beside startnet.cmd)"

info=$(wiminfo "$WIM") || die "$WIM: wiminfo failed (not a WIM?)"
count=$(sed -n 's/^Image Count: *//p' <<<"$info")
boot=$(sed -n 's/^Boot Index: *//p' <<<"$info")
[[ $count =~ ^[0-9]+$ ]] || die "$WIM: cannot read the image count from wiminfo"
if [ -z "$INDEX" ]; then
  if [[ $boot =~ ^[1-9][0-9]*$ ]]; then
    INDEX=$boot
  elif [ "$count" = 1 ]; then
    INDEX=1
  else
    die "$WIM has $count images and no boot index: give the image index as the 3rd argument"
  fi
fi
if ! [[ $INDEX =~ ^[1-9][0-9]*$ ]] || [ "$INDEX" -gt "$count" ]; then
  die "image index $INDEX: $WIM has images 1..$count"
fi

if wimdir "$WIM" "$INDEX" --path=/Windows/System32 2>/dev/null | grep -qix '/Windows/System32/winpeshl.ini'; then
  echo "add-to-wim: warning: image $INDEX has Windows/System32/winpeshl.ini, which runs instead of startnet.cmd" >&2
fi

# wimupdate's command language quotes with double quotes; refuse paths it could misread.
for p in "$EXE" "$STARTNET"; do
  case $p in *'"'* | *$'\n'*) die "unsupported character in path: $p" ;; esac
done
echo "add-to-wim: $WIM image $INDEX: /wufix/wufix.exe, /Windows/System32/startnet.cmd"
printf 'add "%s" /wufix/wufix.exe\nadd "%s" /Windows/System32/startnet.cmd\n' "$EXE" "$STARTNET" |
  wimupdate "$WIM" "$INDEX" >/dev/null

# Read back what the image now holds.
listing=$(wimdir "$WIM" "$INDEX")
for p in /wufix/wufix.exe /Windows/System32/startnet.cmd; do
  grep -qixF "$p" <<<"$listing" || die "$p is not in image $INDEX after wimupdate"
done
echo "add-to-wim: done"
