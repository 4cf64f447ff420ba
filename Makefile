PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
SOAK_SECONDS ?= 600
BIN     = $(VENV)/bin

.PHONY: serve test install browser bench clean

# The stamp file is rebuilt whenever pyproject.toml changes, so a fresh clone
# (or a new dependency) installs exactly once.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

serve: install
	$(BIN)/mockserver serve --host $(HOST) --port $(PORT)

# The browser tests drive Debian's Chromium, installed once (as root, or through sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# Two workers (one per core here, `-n auto`); the tests of one live server
# fixture share an xdist_group, so they run on one worker and start it once.
test: install browser
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

# The performance benchmark (bench/run.py writes bench/results.md). Not part
# of `test`: timings are not tests. wrk comes from Debian, like chromium
# above; PEERS=1 also measures Prism, PROFILE=1 also samples with py-spy.
# DURATION, ROUNDS, CONNECTIONS and THREADS change the run's settings. Then
# bench/soak.py runs SOAK_SECONDS of mixed traffic and adds its memory figures.
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }
	PEERS=$(PEERS) PROFILE=$(PROFILE) DURATION=$(DURATION) ROUNDS=$(ROUNDS) CONNECTIONS=$(CONNECTIONS) \
	  THREADS=$(THREADS) $(BIN)/python bench/run.py
	$(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(VENV) build .pytest_cache
