# segkit: `make demo` builds the demo workspace and reports, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.segkit-installed

.PHONY: demo test lint bench lab clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,bench,spark,postgres]"
	@# test-only reference: gbstats 0.8.0 pins pandas<2/numpy<2 but runs on segkit's (tests/stats)
	$(PY) -m pip install --quiet --no-deps "gbstats==0.8.0"
	$(PY) -m ipykernel install --sys-prefix --name segkit --display-name "Python (segkit)" >/dev/null
	@# plain `.venv/bin/jupyter lab` also opens notebooks clean and saves tracked ones without outputs
	@mkdir -p $(VENV)/etc/jupyter/jupyter_server_config.d
	@echo '{"ServerApp": {"contents_manager_class": "segkit.lab._contents.SegkitContentsManager"}}' \
		> $(VENV)/etc/jupyter/jupyter_server_config.d/segkit.json
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/segkit demo

lint: $(STAMP)
	$(VENV)/bin/ruff check segkit tests benchmarks

test: $(STAMP) lint
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	@for script in $$(ls benchmarks/*.py | grep -v "/_"); do echo "== $$script"; $(PY) $$script || exit 1; done

# JupyterLab on notebooks/ with the segkit kernel; tracked notebooks are saved without outputs.
# Jupyter refuses root unless told: as root, segkit lab says so and passes --allow-root.
lab: $(STAMP)
	$(VENV)/bin/segkit lab notebooks/

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
