# Facial Keypoint Detection grading harness. `make help` lists the targets.
PYTHON        ?= python3
VENV          ?= .venv
PY            := $(VENV)/bin/python
DATA_SOURCE   ?=
SAMPLES_SOURCE?=
TEST_SOURCE   ?=
TEST_MODE     ?= replace
SUBMISSION    ?= .
NAME          ?= $(if $(filter .,$(SUBMISSION)),student,$(notdir $(abspath $(SUBMISSION))))
REPORTS       ?= reports
PYTEST_ARGS   ?=
-include docker/docker.mk

.DEFAULT_GOAL := help
.PHONY: help setup data browser grade grade-local test test-fast test-adversarial bench clean reference

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

setup: $(VENV)/.installed  ## create .venv and install the pinned dependencies (no-op when up to date)

data: setup  ## copy and verify the dataset into data/ (DATA_SOURCE=dir-or-archive, SAMPLES_SOURCE=dir, TEST_SOURCE=dir TEST_MODE=replace|add)
	@$(PY) -m grader data --source "$(DATA_SOURCE)" --samples-source "$(SAMPLES_SOURCE)" \
	  --test-source "$(TEST_SOURCE)" --test-mode "$(TEST_MODE)"

# With an engine but no image registry, docker/base-image.sh switches to the offline base (one line says so).
# The venv is brought up to date here: a sub-make would not inherit a caller's `--assume-old` for it.
SUBMAKE = $(MAKE) --no-print-directory --assume-old=$(VENV)/.installed
grade: setup  ## grade SUBMISSION (default: this workspace) in Docker when an engine answers, else locally
	@if docker info >/dev/null 2>&1; then \
	  base=$$(docker/base-image.sh "$(DOCKER_BASE_IMAGE)" "$(DOCKER_OFFLINE_BASE)") && \
	  wheels="$(DOCKER_WHEELHOUSE)"; \
	  if [ -z "$$wheels" ] && ! $(PY) -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' \
	      "$(DOCKER_TORCH_INDEX)/torch/" 2>/dev/null; then \
	    wheels="$${XDG_CACHE_HOME:-$$HOME/.cache}/fkp-grader/wheelhouse"; \
	    echo "make grade: $(DOCKER_TORCH_INDEX) does not answer; the image takes torch from $$wheels, filled by this machine's pip"; fi; \
	  $(SUBMAKE) docker-grade DOCKER_BASE_IMAGE="$$base" DOCKER_WHEELHOUSE="$$wheels"; \
	else echo "make grade: no Docker engine answers 'docker info'; grading on this machine instead (make grade-local)."; \
	  $(SUBMAKE) grade-local; fi

grade-local: data  ## grade on this machine, without Docker
	$(PY) -m grader grade $(SUBMISSION) --name $(NAME) --out $(REPORTS)

browser:  ## Debian's headless chromium for the HTML tests (installed when missing; needs root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "make browser: install Debian's chromium (sudo apt-get install chromium) for the HTML tests" >&2; exit 1; fi; }

TEST_WORKERS  ?= 3
test: data browser  ## run the whole test suite (TEST_WORKERS=3 pytest-xdist workers, a test file per worker)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast: data  ## unit tests only (no training, no browser, no docker)
	$(PY) -m pytest -m "not slow and not browser and not docker" $(PYTEST_ARGS)

test-adversarial: data  ## the hostile and broken submissions (tests/adversarial/), locally and in the container when an engine answers
	$(PY) -m pytest -m adversarial $(PYTEST_ARGS)

bench: data  ## benchmarks that print timings
	$(PY) -m bench

clean:  ## remove reports and caches (keeps .venv and data/)
	rm -rf $(REPORTS) .pytest_cache build *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +

reference: data  ## retrain the reference submission's weights (CPU, ~25 min; REFERENCE_ARGS="--eval-every 2000" logs test NME)
	$(PY) tests/submissions/reference/train.py --data-dir data/facial-keypoints $(REFERENCE_ARGS)
	$(PY) tests/submissions/reference/evaluate.py --data-dir data/facial-keypoints
