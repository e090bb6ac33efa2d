# Developer checks. `make check` is what a change must pass before it is merged: lint, types,
# and the whole suite with the statistical checks at full size (PMO_SIM_FULL=1).
PY ?= .venv/bin/python

.PHONY: check lint types test test-full bench bench-all

check: lint types test-full

lint:
	$(PY) -m ruff check pmo_sim tests benchmarks

types:
	$(PY) -m mypy

test:
	$(PY) -m pytest

test-full:
	PMO_SIM_FULL=1 $(PY) -m pytest -n 2

# Speed against the yardsticks and the heapq floor (about a minute).
bench:
	$(PY) benchmarks/run.py

# Everything benchmarks/README.md reports: speed, scaling to 64x, Monte Carlo end to end.
bench-all: bench
	$(PY) benchmarks/scaling.py
	$(PY) benchmarks/scaling.py --needs
	$(PY) benchmarks/scenario_scaling.py
	$(PY) benchmarks/explicit.py
	$(PY) benchmarks/montecarlo.py
