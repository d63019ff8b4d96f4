#!/usr/bin/env bash
# `make demo`: the main job on a realistic broken Windows disk image built from real Windows data in
# ../shared: scan -> repair (plan, journal, WinRE partition rebuilt, hives fixed, verified) -> scan
# again -> the journal. As root (loop devices, ntfs-3g); without root, the same on a volume tree.
# KEEP=1 keeps the image (or the tree) and its journal, and prints their path and commands to try.
set -euo pipefail
cd "$(dirname "$0")/.."
W="node dist/wufix.js"
export WUFIX_SHARED=${WUFIX_SHARED:-$(cd .. && pwd)/shared}
if [ ! -f "$WUFIX_SHARED/fixtures/hives/MANIFEST.tsv" ]; then
  echo "demo: the real Windows hives are in ../shared (set WUFIX_SHARED); not found at $WUFIX_SHARED" >&2
  exit 2
fi
tmp=$(mktemp -d)
keep=${KEEP:-}
[ "$keep" = 0 ] && keep=
# What stays with KEEP=1, and what to try on it next (printed however the demo ends).
kept() {
  rm -f "$tmp/demo-build.mjs"
  if [ -f "$tmp/laptop.img" ]; then
    local img="$tmp/laptop.img"
    echo
    echo "== KEEP=1: the demo image stays at $img (sparse; rm -rf $tmp when done). Try:"
    echo "  sudo $W disk list $img"
    echo "  sudo $W winre info --image $img"
    echo "  sudo $W scan --image $img --html $tmp/report.html"
    echo "  sudo $W journal list --journal $img.wufix-journal"
    echo "  sudo $W undo --last --image $img"
  elif [ -d "$tmp/C" ]; then
    echo
    echo "== KEEP=1: the demo volume tree stays at $tmp/C (rm -rf $tmp when done). Try:"
    echo "  $W winre info --root $tmp/C"
    echo "  $W scan --root $tmp/C --json"
    echo "  $W undo --last --root $tmp/C"
  fi
}
if [ -n "$keep" ]; then trap kept EXIT; else trap 'rm -rf "$tmp"' EXIT; fi
npx --no-install esbuild scripts/demo-build.ts --bundle --platform=node --format=esm --log-level=error \
  --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);" \
  --outfile="$tmp/demo-build.mjs"
need="losetup ntfs-3g mkntfs mcopy sgdisk wimcapture"
missing=""; for c in $need; do command -v $c >/dev/null || missing="$missing $c"; done
if [ "$(id -u)" != 0 ] || [ -n "$missing" ]; then
  echo "demo: the disk-image demo needs root and$missing (make test-deps installs them); showing the volume-tree demo instead"
  node "$tmp/demo-build.mjs" tree "$tmp/C"
  set +e; $W scan --root "$tmp/C" --no-color; echo "(exit code $?: 10 = findings)"; set -e
  $W repair --root "$tmp/C" --yes 2>&1
  $W scan --root "$tmp/C" --no-color
  exit 0
fi
img="$tmp/laptop.img"
echo "== 0. Building a 16 GiB (sparse) Windows 10 22H2 disk image: ESP, MSR, Windows, 570 MB recovery with 82 MB free"
node "$tmp/demo-build.mjs" image "$img"
$W disk show "$img"
echo
echo "== 1. wufix scan --image: KB5034441 fails with 0x80070643, .NET updates with 0x800B010B"
set +e
$W scan --image "$img" --no-color
echo "(exit code $?: 10 = findings)"
set -e
echo
echo "== 2. wufix repair --image --yes: the plan, the journal beside the image, the changes, verified"
$W repair --image "$img" --yes 2>&1
echo
echo "== 3. wufix scan --image again"
set +e
$W scan --image "$img" --no-color
code=$?
set -e
echo "(exit code $code: 0 = nothing left to fix)"
$W disk show "$img"
echo
echo "== 4. The journal, and how to put every byte back"
$W journal list --journal "$img.wufix-journal"
echo "(wufix undo --last --image <disk.img> restores the partition table, the old recovery partition, the BCD and every file)"
exit $code
