# Claimscript: `make build`, `make test`, `make guest`, `make lint`.
CARGO ?= cargo
RUNTIME_DIR := crates/host/runtime
GUEST_MODULE := guest/target/claimscript-guest.wasm

.PHONY: build test test-deps lint fmt guest guest-check example clean

build:
	$(CARGO) build --release -p claimscript-cli

# Compile and run the RBAC example.
example: build
	./target/release/claimscript run examples/rbac/script.js --input examples/rbac/input.json

# The issuance tests verify tokens with PyJWT (an implementation independent
# of ours); install it first.
test-deps:
	python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt

test: test-deps
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

lint:
	$(CARGO) fmt --all --check
	cd guest && $(CARGO) fmt --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

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
