# Two commands: `make run` starts the whole system, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PROJECT_FILES := requirements.txt requirements-dev.txt constraints.txt \
	$(wildcard packages/*/pyproject.toml services/*/pyproject.toml)

.PHONY: run test venv clean-data

venv: $(STAMP)

$(STAMP): $(PROJECT_FILES)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Runway needs Python 3.11 or newer (set PYTHON=python3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/runway-dev run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean-data:
	rm -rf .runway
