# Postern: `make run` starts the app, `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := run
export NO_AT_BRIDGE := 1
export GTK_USE_PORTAL := 0

.PHONY: run test msrv bench fuzz deps ui lint rust-test ui-test e2e deb deb-test clean bindings

# Debian packages, Rust components, tauri-driver, the UI's npm packages.
deps:
	@scripts/bootstrap

ui: deps
	@cd ui && npm run --silent build

## make run: build the UI and start the app window (sandbox mode when no Google client is configured).
run: ui
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "make run: no display (DISPLAY and WAYLAND_DISPLAY are unset). Run it in a desktop session, or try it headless with: scripts/with-desktop make run"; \
	  exit 1; \
	fi
	cargo run --quiet -p postern

## make test: formatting, lints, every Rust test, the UI's checks and unit tests, the
## end-to-end suites (real keychain, real Chromium, the real app window, a tray host, a
## notification server), inside a private desktop; then the .deb, installed and started.
# The tests are built first and then run within this many seconds (a warm run takes about 6
# minutes on 2 cores): a hang fails the run, saying so, long before CI's own limit.
TEST_TIME_LIMIT ?= 1800
test: ui
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	set -o pipefail; scripts/module-graph --check | tail -1
	set -o pipefail; scripts/module-graph --check --depth 2 | tail -1
	$(MAKE) --no-print-directory msrv
	cd ui && npm run --silent check && npm test --silent
	scripts/check-harness
	cargo test --workspace --no-run --quiet
	POSTERN_TIME_LIMIT=$(TEST_TIME_LIMIT) scripts/with-desktop cargo test --workspace --no-fail-fast
	$(MAKE) --no-print-directory deb-test

## make bindings: rewrites the UI's TypeScript contract (ui/src/lib/bindings/) from the Rust
## types, commands and events (docs/ipc.md); `make test` fails while it is stale.
bindings:
	POSTERN_WRITE_BINDINGS=1 cargo test --quiet -p postern --lib contract::bindings::committed_bindings_are_what_the_contract_generates

## make msrv: each rust-version is true: the workspace type-checks with the app's (Cargo.toml),
## core, the sandbox and the test kit with core's (core/Cargo.toml). Check, not test, so it
## stays quick; scripts/bootstrap installs both toolchains.
rust_version = $(shell sed -n 's/^rust-version = "\(.*\)"$$/\1/p' $(1))
msrv: ui
	cargo +$(call rust_version,Cargo.toml) check --workspace --all-targets --quiet
	cargo +$(call rust_version,core/Cargo.toml) check -p postern-core -p postern-sandbox -p postern-testkit --all-targets --quiet

## make deb-test: builds the .deb, installs it (dpkg -i), checks it, starts it, removes it.
deb-test: deb
	scripts/test-deb

## make bench: throughput and latency ratios against baselines measured in the same run.
bench: ui
	cargo build --profile bench --quiet -p postern-bench-hello
	scripts/with-desktop cargo bench -p postern --bench bench --bench window --quiet

## make fuzz: every fuzz target in fuzz/ for 10^6 inputs (FUZZ_RUNS=n to change), after
## installing cargo-fuzz; not part of make test (see README.md, Fuzzing).
fuzz: deps
	scripts/fuzz

## make deb: the Debian package (target/release/bundle/deb/).
deb: ui
	cargo build --release --quiet -p postern --bins
	ui/node_modules/.bin/tauri build --bundles deb
