# tipgate: `make run` and `make test` do all set-up on a fresh Debian machine (README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian packages: what building and serving need, and what the tests add (PyNaCl as an
# independent sealer, node for the page script's tests, gdb's gcore for the residue test,
# headless Chromium driven by Selenium for the browser tests).
RUN_PACKAGES := libsodium-dev libsqlite3-dev pkg-config openssl curl node-tweetnacl
TEST_PACKAGES := $(RUN_PACKAGES) python3-nacl nodejs gdb chromium chromium-driver python3-selenium tor shellcheck systemd strace
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEV := .dev
DEV_PASSPHRASE := dev-passphrase-not-secret
BIN := .build/debug

.PHONY: help deps deps-test apt-install build run dev test soak test-tls fuzz clean-dev format format-check

help:
	@echo "make run    install what is missing, build, create dev keys and a cert, serve on https://127.0.0.1:8443"
	@echo "make test   install what is missing and run the tests"

deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(RUN_PACKAGES)"

deps-test:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	swift build

# The dev vault uses a known passphrase and the cheap Argon2id profile: it is for trying
# tipgate on this machine only, never for real tips. Keys/dev-setup.sh makes each missing piece.
dev: build
	@TIPDESK_PASSPHRASE=$(DEV_PASSPHRASE) bash Keys/dev-setup.sh $(BIN) $(DEV)

run: dev
	@echo
	@echo "dev vault: $(DEV)/vault   passphrase: $(DEV_PASSPHRASE)   (dev only, never for real tips)"
	@echo "root fingerprint: $$(sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p' $(DEV)/root.json)"
	@echo "try, in another terminal (or open https://127.0.0.1:8443/ in a browser):"
	@echo "  echo 'a test tip' | $(BIN)/tipdesk seal --server https://127.0.0.1:8443 --cacert $(DEV)/cert.pem \\"
	@echo "    --root-fingerprint \"$$(sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p' $(DEV)/root.json)\" --post"
	@echo "  curl --cacert $(DEV)/cert.pem --data-urlencode 'body=a tip without JavaScript' https://127.0.0.1:8443/submit"
	@echo "  $(BIN)/tipdesk check-server https://127.0.0.1:8443 --cacert $(DEV)/cert.pem --root-fingerprint \"$$(sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p' $(DEV)/root.json)\""
	@echo "  $(BIN)/tipgate export --data $(DEV)/data --out $(DEV)/bundle-\$$(date +%s).tipgate"
	@echo "  TIPDESK_PASSPHRASE=$(DEV_PASSPHRASE) $(BIN)/tipdesk import --vault $(DEV)/vault $(DEV)/bundle-*.tipgate"
	@echo "  TIPDESK_PASSPHRASE=$(DEV_PASSPHRASE) $(BIN)/tipdesk list --vault $(DEV)/vault"
	@echo
	exec $(BIN)/tipgate serve --data $(DEV)/data --listen 127.0.0.1:8443 \
	  --tls-cert $(DEV)/cert.pem --tls-key $(DEV)/key.pem --root-key $(DEV)/root.json --keyring $(DEV)/keyring.json

test: deps-test format-check
	swift build --build-tests
	@# One test at a time: the CLI tests wait for their processes on a thread of Swift's
	@# cooperative pool, which has a thread per core, so two of them at once starved the live
	@# servers of other tests (DurabilityTests timed out getting a connection, twice in five
	@# runs on 2 cores). Serial takes ~145 s against ~75 s.
	swift test --skip-build --no-parallel
	node --test Tests/js/
	/usr/bin/python3 Tests/browser/test_browser.py
	/usr/bin/python3 Tests/resilience/resilience.py --size small
	bash Fuzz/fuzz.sh 5
	bash Deploy/check.sh

# swift-format (the toolchain's `swift format`, settings in .swift-format): `make format` rewrites
# every tracked Swift file; `make test` fails first if one is not formatted.
format:
	git ls-files -z '*.swift' | xargs -0 swift format --in-place

format-check:
	@if ! swift format --version >/dev/null 2>&1; then echo "format-check: skipped: this toolchain has no swift format"; exit 0; fi; \
	bad=0; for f in $$(git ls-files '*.swift'); do \
	  swift format "$$f" | cmp -s - "$$f" || { echo "format-check: not formatted: $$f (make format)"; bad=1; }; \
	done; exit $$bad

# testssl.sh (Debian) against a live server on loopback: protocols, ciphers, HSTS.
test-tls: deps-test
	@command -v testssl >/dev/null || $(MAKE) --no-print-directory apt-install PACKAGES=testssl.sh
	swift build
	bash Tests/tls/test-tls.sh

# libFuzzer on every TipCore parser of outside input; crashers land in Tests/Fuzz/crashers/.
fuzz:
	bash Fuzz/fuzz.sh $(or $(FUZZ_SECONDS),10)

# The durability proof at a large size: more kills, more connections (bounded, loopback only).
soak: deps-test
	swift build
	/usr/bin/python3 Tests/resilience/resilience.py --size large

clean-dev:
	rm -rf $(DEV)

# Issue 9's performance goals, each as a ratio against a baseline run beside it on this
# machine (Benchmarks/bench.sh): release build in .build-bench, loopback only, every step
# time-limited, and everything it starts is stopped. Any Debian nginx will do for the baseline.
BENCH_PACKAGES := libsodium-dev libsqlite3-dev sqlite3 pkg-config openssl curl python3-nacl wrk gcc util-linux procps

.PHONY: bench
bench:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(BENCH_PACKAGES)"
	@command -v nginx >/dev/null || $(MAKE) --no-print-directory apt-install PACKAGES=nginx
	bash Benchmarks/bench.sh
