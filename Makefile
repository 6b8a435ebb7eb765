# veriforge developer tasks. `make test` builds .venv from nothing on first use; later runs
# are instant until pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.stamp
BENCH_STAMP := $(VENV)/.bench-stamp

# One BLAS/OpenMP thread per process: generation parallelises across processes, and
# oversubscribed thread pools only add noise to timings.
export OMP_NUM_THREADS = 1

.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
.PHONY: venv test demo bench bench-quick clean distclean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -c constraints.txt -e '.[dev,solvers,train]'
	@touch $@

test: venv
	$(VPY) -m pytest -q

demo: venv
	$(VENV)/bin/veriforge demo

$(BENCH_STAMP): $(STAMP)
	$(VPY) -m pip install --quiet -c constraints.txt -e '.[dev,solvers,train,bench]'
	@touch $@

# Full benchmarks: about 1.5 hours on the 2-core reference machine (training and the 100k-instance
# solver memory run dominate). `make bench-quick` is a smoke run of every script (a few minutes).
bench: $(BENCH_STAMP)
	@set -e; for f in benchmarks/bench_*.py; do \
		[ -e "$$f" ] || { echo "no benchmarks/bench_*.py"; break; }; \
		echo "== $$f"; $(VPY) "$$f"; \
	done

bench-quick: $(BENCH_STAMP)
	@set -e; for f in benchmarks/bench_*.py; do \
		if grep -q -- '"--quick"' "$$f"; then args=--quick; else args=; fi; \
		echo "== $$f $$args"; $(VPY) "$$f" $$args; \
	done

# Build outputs and caches; keeps .venv (slow to rebuild). `make distclean` removes it too.
clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
