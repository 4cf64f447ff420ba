PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
SOAK_SECONDS ?= 60
BIN     = $(VENV)/bin
SPECTRAL = build/node/node_modules/.bin/spectral

.PHONY: serve test lint spec-check install browser redis lint-tools image-test bench clean

# The stamp file is rebuilt whenever pyproject.toml changes, so a fresh clone
# (or a new dependency) installs exactly once. uv resolves and installs the
# same packages pip would from PyPI, in about a third of pip's time from a
# cold cache (13 s against 38 s here); pip stays in the venv for users. --compile-bytecode does
# what pip does by default: where Python may not write .pyc files (PYTHONDONTWRITEBYTECODE), a module
# without one is compiled from source at every start (fpdf2 and fontTools alone were seconds of it).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[test]'
	touch $@

install: $(VENV)/.installed

serve: install
	$(BIN)/mockserver serve --host $(HOST) --port $(PORT)

# The browser tests drive Debian's Chromium, installed once (as root, or through sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The shared-state tests (--store redis://…) start Debian's redis-server on a
# free loopback port; installed once, like chromium above. Valkey works too.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server; }

# The habits every change keeps: lint and format, strict types, one-way layers.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Spectral lints the specs; npm installs it into build/node, pinned to its
# major version, once. Node and npm come from Debian, like chromium above.
$(SPECTRAL):
	@command -v npm >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; }
	npm install --prefix build/node --no-audit --no-fund --silent @stoplight/spectral-cli@6

lint-tools: $(SPECTRAL)

# The specs are checked before anything relies on them: `mockserver check`,
# then Spectral's OpenAPI rules (.spectral.yaml), where a warning fails too.
spec-check: install lint-tools
	$(BIN)/mockserver check specs
	$(SPECTRAL) lint --quiet --fail-severity=warn --ruleset .spectral.yaml specs/*.yaml

# `test` installs the project and its tools side by side (the venv from
# PyPI, Spectral from npm), then runs the lint and the spec checks side by side (each keeps to one
# core, about 25 s apiece here), each one's output kept together, then the
# tests: two workers (one per core here, `-n auto`); the tests of one live
# server fixture share an xdist_group, so they run on one worker and start it once.
# The machine sets PYTHONDONTWRITEBYTECODE. Without bytecode caches every one
# of the suite's Python processes (about a hundred: servers, contract runs)
# compiles its imports again, and pytest re-rewrites the assertions of some
# 430 plugin modules, 8 s a process here. One hypothesis folder for every
# process keeps hypothesis' Unicode tables, 7 s to build, built once.
# The coverage phase runs once: in the self-certification (the schemathesis CLI,
# every phase of both specs, 10 generated cases per operation). Here the
# conformance suite runs its examples phase and fuzzes 5 cases per operation,
# and the stateful layer runs 5 cases: generating cases is most of the suites'
# CPU (the conformance suite alone took 310 s of a worker fuzzing 25 cases,
# 129 s at 10, 22 s with its examples only, when Hypothesis runs nothing for the
# 78 operations without one), and in the pytest plugin each worker also builds
# every operation's coverage cases while collecting. `mockserver contract` keeps
# every phase and 25 cases for users.
test: export PYTHONDONTWRITEBYTECODE =
test: export HYPOTHESIS_STORAGE_DIRECTORY = $(CURDIR)/.hypothesis
test:
	$(MAKE) --no-print-directory --jobs=4 --output-sync=target install browser redis lint-tools
	$(MAKE) --no-print-directory --jobs=2 --output-sync=target lint spec-check
	$(BIN)/python -m pytest -n auto --dist loadgroup --contract-phase=examples --contract-phase=fuzzing --contract-max-examples=5 $(PYTEST_ARGS)

# docker/Dockerfile built and run for real (tests/test_image.py), with podman
# on a Debian base that debootstrap makes from Debian's packages; all three
# come from Debian, installed once like chromium above. Not part of `test`:
# the first build takes minutes.
image-test: install
	@command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq podman runc debootstrap; }
	$(BIN)/python -m pytest -m image tests/test_image.py -s $(PYTEST_ARGS)

# The performance benchmark (bench/run.py writes bench/results.md and the
# chart bench/results.png, drawn by matplotlib from the `bench` extra). Not
# part of `test`: timings are not tests. wrk comes from Debian, like chromium
# above, and the workers' figures need redis-server (`make redis`); PEERS=1
# also measures Prism, PROFILE=1 also samples with py-spy. DURATION (5 s a
# run), ROUNDS (2), CONNECTIONS and THREADS change the run's settings (a
# longer run: `make bench DURATION=10 SOAK_SECONDS=600`). Then bench/soak.py
# runs SOAK_SECONDS (60) of mixed traffic and adds its memory figures.
bench: install redis
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[test,bench]'
	# the start-up is measured as an installed server starts: with its own modules compiled
	$(BIN)/python -m compileall -q mockserver
	@command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }
	PEERS=$(PEERS) PROFILE=$(PROFILE) DURATION=$(DURATION) ROUNDS=$(ROUNDS) CONNECTIONS=$(CONNECTIONS) \
	  THREADS=$(THREADS) $(BIN)/python bench/run.py
	$(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(VENV) build .pytest_cache
