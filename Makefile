# socfw — two entry points for a fresh Debian machine (see README.md):
#   make run    install, build, bring up the lab with socfwd inline and socfw-api, follow socfwd's log
#   make test   install, build, run every test (unit tests, then the lab tests)
SHELL := /bin/bash
SWIFT ?= swift
LAB_NAME ?= socfw-lab
MODE ?= router
BIN := .build/release

.PHONY: deps build run test unit-test lab-test bench deb clean

deps:
	@Scripts/install-deps

build: deps
	$(SWIFT) build -c release

# Follows the log until Ctrl-C, then takes the lab down again.
run: build
	@Scripts/lab up --mode $(MODE) --name $(LAB_NAME) --api
	@trap 'echo; Scripts/lab down --name $(LAB_NAME)' EXIT; trap 'exit 0' INT TERM; \
	  eval "$$(Scripts/lab env --name $(LAB_NAME))"; \
	  ip netns exec "$$LAB_SERVER_NS" python3 Tests/lab/labnet.py serve >/dev/null 2>&1 & \
	  echo "listeners started in $$LAB_SERVER_NS; following $$LAB_LOG (Ctrl-C stops socfwd and removes the lab)"; \
	  tail -n +1 -f "$$LAB_LOG" || true

# Unit tests and lab tests share one release build (no @testable imports).
unit-test:
	$(SWIFT) build -c release --build-tests
	$(SWIFT) test -c release --skip-build

lab-test:
	SOCFWD_BIN=$(CURDIR)/$(BIN)/socfwd SOCFWCTL_BIN=$(CURDIR)/$(BIN)/socfwctl SOCFW_API_BIN=$(CURDIR)/$(BIN)/socfw-api python3 -m pytest -v -p no:cacheprovider Tests/lab

test: deps
	@Scripts/install-deps --test
	# One release build for everything: `swift test` alone would compile every
	# module a second time with testing flags; the lab tests use its binaries.
	$(SWIFT) build -c release --build-tests
	$(SWIFT) test -c release --skip-build
	SOCFWD_BIN=$(CURDIR)/$(BIN)/socfwd SOCFWCTL_BIN=$(CURDIR)/$(BIN)/socfwctl SOCFW_API_BIN=$(CURDIR)/$(BIN)/socfw-api python3 -m pytest -v -p no:cacheprovider Tests/lab

bench: build
	Scripts/bench pipeline
	Scripts/bench queue

# The Debian package (Scripts/package-deb): .build/package/socfw_VERSION_ARCH.deb
deb: build
	Scripts/package-deb

clean:
	rm -rf .build
