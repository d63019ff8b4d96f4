#!/usr/bin/env bash
# `make demo`: the main job on a realistic broken offline Windows built from real Windows hives in
# ../shared: scan -> repair (plan, journal, apply, verify) -> scan again. #7 adds a disk image.
set -euo pipefail
cd "$(dirname "$0")/.."
W="node dist/wufix.js"
export WUFIX_SHARED=${WUFIX_SHARED:-$(cd .. && pwd)/shared}
if [ ! -f "$WUFIX_SHARED/fixtures/hives/MANIFEST.tsv" ]; then
  echo "demo: the real Windows hives are in ../shared (set WUFIX_SHARED); not found at $WUFIX_SHARED" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx --no-install esbuild scripts/demo-build.ts --bundle --platform=node --format=esm --log-level=error \
  --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);" \
  --outfile="$tmp/demo-build.mjs"
node "$tmp/demo-build.mjs" "$tmp/C"
echo "== 1. wufix scan: a Windows 7 machine whose .NET 4 update KB2656368 fails with 0x80070643"
set +e
$W scan --root "$tmp/C" --no-color
echo "(exit code $?: 10 = findings)"
set -e
echo
echo "== 2. wufix repair --yes: the plan, a backup in the journal, the changes, verified"
$W repair --root "$tmp/C" --yes 2>&1
echo
echo "== 3. wufix scan again"
$W scan --root "$tmp/C" --no-color
echo
echo "== 4. The journal, and how to put every byte back"
$W journal list --root "$tmp/C"
echo "(wufix undo --last --root <volume> restores it)"
