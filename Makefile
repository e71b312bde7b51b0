# Claimscript: `make build`, `make test`, `make guest`, `make lint`.
CARGO ?= cargo
RUNTIME_DIR := crates/host/runtime
GUEST_MODULE := guest/target/claimscript-guest.wasm

.PHONY: build test test-deps lint fmt guest guest-check example bench bench-deps playground playground-check clean fuzz fuzz-smoke fuzz-deps soak

build:
	$(CARGO) build --release -p claimscript-cli

# Compile and run the RBAC example.
example: build
	./target/release/claimscript run examples/rbac/script.js --input examples/rbac/input.json

# The issuance tests verify tokens with PyJWT (an implementation independent
# of ours), the declaration tests type-check scripts with the pinned tsc
# (Node.js and npm needed), and the playground's tests drive Debian's
# Chromium (installed by playground/run-tests.sh when missing, as root).
test-deps:
	@command -v docker-registry >/dev/null 2>&1 || { \
	  echo "== installing Debian's docker-registry (the OCI tests start their own on loopback)"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  $$sudo apt-get update -qq && \
	  echo exit 101 | $$sudo tee /usr/sbin/policy-rc.d >/dev/null && $$sudo chmod +x /usr/sbin/policy-rc.d && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends docker-registry; \
	  $$sudo rm -f /usr/sbin/policy-rc.d; }
	python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt
	cd tests/types && npm ci --no-audit --no-fund --loglevel=error

test: test-deps
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	SCREENSHOT=$${SCREENSHOT:-none} bash playground/run-tests.sh

# The playground's bundle is committed; fail when it is not a fresh build of
# playground/ (as guest-check does for the runtime).
playground-check:
	bash playground/check-fresh.sh

# Rebuild the playground's bundle (crates/server/playground/dist/).
playground:
	cd playground && npm ci --no-audit --no-fund --loglevel=error && npm run build

lint:
	$(CARGO) fmt --all --check
	cd guest && $(CARGO) fmt --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Benchmarks (see BENCHMARKS.md): the criterion micro-benchmarks, then
# bench/report.py (every example at concurrency 1 and 2, node:vm alongside
# when node is installed, 1,000 runs in flight), which rewrites the
# generated part of BENCHMARKS.md.
bench: build bench-deps
	$(CARGO) build --release -p claimscript --example inflight
	$(CARGO) bench -p claimscript --bench hot_paths -- --warm-up-time 1 --measurement-time 3
	python3 bench/report.py
	python3 bench/service.py

# The service benchmark's load generators: wrk (Debian's package) and oha
# (crates.io; its constant-rate mode measures the p99 at 5,000 requests/s).
OHA_VERSION ?= 1.16.0
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends wrk; }
	@command -v oha >/dev/null 2>&1 || [ -x "$$HOME/.cargo/bin/oha" ] || \
	  $(CARGO) install oha --version $(OHA_VERSION) --locked

# Coverage-guided fuzzing (fuzz/, cargo-fuzz + libFuzzer on the stable
# toolchain with RUSTC_BOOTSTRAP=1; see RELIABILITY.md). `make fuzz` runs
# each target for FUZZ_SECONDS; `make fuzz-smoke` (CI) for
# FUZZ_SMOKE_SECONDS each. New inputs go to fuzz/corpus-work/ (ignored);
# the committed seeds in fuzz/corpus/ are only read. A crash leaves its
# input in fuzz/artifacts/TARGET/ and fails the target.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_SANITIZER ?= none
FUZZ_TARGETS := input_json grants_toml fetch_patterns egress_classify template validate_output issuer hooks_parse hooks_verify server_config run_script
FUZZ_RUN = RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --release --sanitizer $(FUZZ_SANITIZER)

fuzz-deps:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked

fuzz: fuzz-deps
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build --release --sanitizer $(FUZZ_SANITIZER)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus-work/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_RUN) $$t fuzz/corpus-work/$$t fuzz/corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 || exit 1; \
	done

fuzz-smoke: fuzz-deps
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build --release --sanitizer $(FUZZ_SANITIZER)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus-work/$$t; \
	  echo "== fuzz-smoke $$t for $(FUZZ_SMOKE_SECONDS) s"; \
	  $(FUZZ_RUN) $$t fuzz/corpus-work/$$t fuzz/corpus/$$t -- -max_total_time=$(FUZZ_SMOKE_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 || exit 1; \
	done

# At least 1,000,000 runs in one process (crates/host/examples/soak.rs):
# prints the outcome tallies, the RSS / fd / heap slopes per 100k runs after
# warm-up, and the pool check; fails on any unexpected outcome, a failed pool
# check or a clear leak (see RELIABILITY.md). About 2 minutes on 2 cores.
SOAK_RUNS ?= 1000000
soak:
	$(CARGO) run --release -p claimscript --example soak -- --runs $(SOAK_RUNS)

# Build the QuickJS runtime (guest/ + wit/) into the component the host embeds.
guest:
	bash guest/scripts/build.sh $(GUEST_MODULE)
	$(CARGO) run --quiet --release -p claimscript-runtime-build -- $(GUEST_MODULE) $(RUNTIME_DIR)

# Rebuild the runtime and fail when it differs from the committed one.
guest-check:
	bash guest/scripts/build.sh $(GUEST_MODULE)
	mkdir -p target/runtime-check
	$(CARGO) run --quiet --release -p claimscript-runtime-build -- $(GUEST_MODULE) target/runtime-check
	@for f in claimscript-runtime.wasm claimscript-quickjs.wasm; do \
	  if cmp -s target/runtime-check/$$f $(RUNTIME_DIR)/$$f; then \
	    echo "runtime is fresh: $(RUNTIME_DIR)/$$f matches guest/ and wit/"; \
	  else \
	    echo "STALE RUNTIME: $(RUNTIME_DIR)/$$f does not match a build of guest/ and wit/; run 'make guest' and commit it" >&2; \
	    exit 1; \
	  fi; \
	done

clean:
	$(CARGO) clean
	rm -rf guest/target
