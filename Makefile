# wufix build and test entry points. `make test` is the README's test command and what .ci/run runs.
SHELL := /bin/bash
APT_TEST_PKGS := libhivex-bin python3-hivex reglookup libregf-utils gdisk fdisk ntfs-3g dosfstools exfatprogs mount util-linux python3-evtx mtools gcab cabextract bsdutils chromium qemu-utils qemu-system-common fuse3
APT_TEST_CMDS := hivexsh reglookup regfinfo sgdisk sfdisk mkntfs mkfs.fat mkfs.exfat losetup blkid blockdev mcopy ntfs-3g gcab cabextract script chromium qemu-img qemu-storage-daemon fusermount3

.PHONY: long-functions
.PHONY: all build test test-fast test-deps deps typecheck bench clean demo lint lint-deps
.PHONY: bundle exe exe-test-deps

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
deps: node_modules/.package-lock.json

build: deps
	npm run build

# The one-file CLI, dist/wufix.js (`node dist/wufix.js`): what `build` makes, with its path and size.
bundle: build
	@echo "bundle: $$(stat -c %s dist/wufix.js) bytes  dist/wufix.js"

# dist/wufix.exe (Windows x64, pkg --sea) and dist/wufix.exe.sha256; offline but for the npm registry.
exe: build
	bash build/exe.sh

typecheck: deps
	npm run typecheck

# The index checks issue #15 turns on (noUncheckedIndexedAccess): errors per folder, not yet a gate.
# Functions in src/ over 100 lines without a `// long: <reason>` comment (issue #15), not yet a gate.
long-functions:
	node scripts/long-functions.mjs

# typescript-eslint (type-checked rules, eslint.config.mjs) and prettier --check (.prettierrc.json).
lint: deps
	npm run lint

# Installs the independent reference tools the tests check our output with (root only; apt).
test-deps:
	@missing=""; for c in $(APT_TEST_CMDS); do command -v $$c >/dev/null || missing=1; done; \
	/usr/bin/python3 -c 'import hivex, Evtx' 2>/dev/null || missing=1; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_TEST_PKGS)) >/dev/null; \
	  else echo "test-deps: not root, cannot install $(APT_TEST_PKGS); tests needing them will skip"; fi; \
	fi

# What test/build (wine smoke test of dist/wufix.exe, WinPE boot.wim scripts) needs (root only; apt).
APT_EXE_TEST_PKGS := wine64 wimtools
exe-test-deps:
	@if [ ! -x /usr/lib/wine/wine64 ] || ! command -v wimupdate >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_EXE_TEST_PKGS)) >/dev/null; \
	  else echo "exe-test-deps: not root, cannot install $(APT_EXE_TEST_PKGS); tests needing them will skip"; fi; \
	fi

# The import rules of docs/architecture.md (dependency-cruiser): no cycles, every folder imports down.
lint-deps: deps
	npx depcruise src --config .dependency-cruiser.cjs --output-type err

# Both vitest projects (vitest.config.mts): unit (src/**/*.test.ts) and integration (test/).
test: deps test-deps exe-test-deps build exe
	npm run typecheck
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory lint-deps
	$(MAKE) --no-print-directory long-functions
	npx vitest run

# The pure tests beside the code (no root, no apt tool, no build): seconds, for every edit.
test-fast: deps
	npx vitest run --project unit

# The README's first set-up command: what wufix does today, on a real hive. KEEP=1 keeps the image.
demo: build
	KEEP="$(KEEP)" bash scripts/demo.sh

bench: build
	npm run bench

clean:
	rm -rf dist out-tsc bench/out
