#!/usr/bin/env bash
# Demo of what exists today (issue #2): the WinTrust "Software Publishing" State fix done by hand
# with the hive engine on a real dirty Windows 11 DEFAULT hive (the .DEFAULT / LocalSystem user),
# its transaction logs replayed first. `make demo` will run scan -> repair -> scan once #4-#7 land.
set -euo pipefail
cd "$(dirname "$0")/.."
W="node dist/wufix.js"
SHARED=${WUFIX_SHARED:-../shared}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$SHARED/fixtures/hives/DFIRArtifactMuseum/Win11"
if [ -f "$src/DEFAULT" ]; then
  cp "$src/DEFAULT" "$src/DEFAULT.LOG1" "$src/DEFAULT.LOG2" "$tmp/"
  echo "== A real Windows 11 DEFAULT hive, left dirty with its .LOG1/.LOG2 (from ../shared/fixtures)"
else
  echo "== ../shared is absent: using a freshly made hive instead of the real one"
  $W hive new "$tmp/DEFAULT" --minor 5
fi
echo
echo "== wufix hive info: dirty, with the logs that hold its last changes"
$W hive info "$tmp/DEFAULT"
KEY='Software\Microsoft\Windows\CurrentVersion\WinTrust\Trust Providers\Software Publishing'
# Break it the way .NET installers fail with 0x800B010B: State 0xC9 turns offline revocation off.
$W hive set "$tmp/DEFAULT" "$KEY" State --type REG_DWORD --data 0xc9
echo
echo "== After an edit: logs replayed into the file first, saved clean and atomically, logs emptied"
$W hive info "$tmp/DEFAULT" | sed -n '3p;5,9p'
echo
echo "== The broken value"
$W hive get "$tmp/DEFAULT" "$KEY" State
echo
echo "== Fix: reset it to the Windows default 0x23C00"
$W hive set "$tmp/DEFAULT" "$KEY" State --type REG_DWORD --data 0x23c00
$W hive get "$tmp/DEFAULT" "$KEY" State
echo
echo "== The same key as regedit would export it"
$W hive export "$tmp/DEFAULT" "$KEY"
if command -v reglookup >/dev/null; then
  echo "== Read back by an independent reader (reglookup):"
  reglookup -p "/$(echo "$KEY" | tr '\\' '/')" "$tmp/DEFAULT" | grep -i state
fi
