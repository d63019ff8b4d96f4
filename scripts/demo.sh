#!/usr/bin/env bash
# `make demo`: what wufix does today on a realistic broken offline Windows (built from real Windows
# hives in ../shared): scan -> the WinTrust fix, done with the hive engine -> scan again.
# Once `wufix repair` lands (#5) the middle step becomes `wufix repair --yes`; #7 adds a disk image.
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
KEY='Software\Microsoft\Windows\CurrentVersion\WinTrust\Trust Providers\Software Publishing'
echo
echo "== 2. The fix, by hand with the hive engine (wufix repair will do this with a journal and undo)"
for hive in "$tmp/C/Windows/System32/config/DEFAULT" "$tmp/C/Users/Alice/NTUSER.DAT"; do
  echo "   $(basename "$(dirname "$hive")")/$(basename "$hive"): $($W hive get "$hive" "$KEY" State) -> 0x00023c00"
  $W hive set "$hive" "$KEY" State --type REG_DWORD --data 0x23c00
done
echo
echo "== 3. wufix scan again"
$W scan --root "$tmp/C" --no-color
