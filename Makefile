# Two commands: `make demo` and `make test`. Everything is installed from this file.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv sysdeps demo test test-slow lint clean planner notebooks docs messages

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/install_kernel.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python scripts/install_kernel.py
	$(BIN)/python scripts/messages.py compile
	touch $(STAMP)

# The Chinese message catalogue (gettext domain dsr, Babel): `make messages` extracts every
# _() / ngettext() / N_() of dsr_analysis/ (babel.cfg) and updates
# dsr_analysis/locale/zh_CN/LC_MESSAGES/dsr.po (new msgids empty, vanished ones dropped);
# translate the empty entries, then `make venv` (or `scripts/messages.py compile`) builds dsr.mo.
# `scripts/messages.py merge` folds colleagues' locale/zh_CN/parts/*.po into dsr.po;
# `scripts/messages.py check` lists every message without a translation.
messages: venv
	$(BIN)/python scripts/messages.py extract
	$(BIN)/python scripts/messages.py compile

# Debian packages the browser tests, screenshots and PDF documents need: Chromium, the Noto
# CJK fonts, the pango libraries WeasyPrint lays PDFs out with, and poppler-utils (pdffonts,
# pdftotext, pdftoppm, pdfinfo) that the tests check the PDFs with.
# Installed only when missing; needs root (as on the project's machines and CI).
sysdeps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK" \
		|| ! fc-list 2>/dev/null | grep -q "Noto Serif CJK" || ! command -v pdftoppm >/dev/null 2>&1 \
		|| ! /sbin/ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0"; then \
		echo "installing chromium, fonts-noto-cjk, poppler-utils and pango (Debian)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; \
	fi

demo: venv sysdeps
	$(BIN)/dsr demo

# The suite runs on TEST_WORKERS processes (pytest-xdist; default one per core), a test file
# per process at a time (--dist loadfile: a file's fixtures are made once), and prints the
# 25 slowest tests: the budget to watch when adding tests.
TEST_WORKERS ?= auto
test: venv sysdeps
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) --dist loadfile --durations=25 tests
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --nbval notebooks \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

# The user guide (用户手册, Chinese) and the developer reference (English) as a site in site/:
# open site/index.html. `make test` builds it with --strict (tests/test_guide.py).
docs: venv
	$(BIN)/mkdocs build --strict --site-dir site

# Crash and concurrency trials of draws and renders (real processes killed with SIGKILL and
# run in pairs, full disks) and the three longer designs of the draw/engine/planner agreement
# test (about 6 minutes): not in `make test`.
test-slow: venv
	$(BIN)/python -m pytest -m slow tests

# The annual-plan planner as a standalone page (Voilà) on this machine only:
# open http://localhost:$(PLANNER_PORT)/ ; Ctrl-C stops it. REGISTERS=DIR counts the plans on
# the bureau's register (empty: the embedded sample, marked 演示数据); the page can load
# another one. Drafts are saved into $$DSR_WORKSPACE/plans (default ~/dsr-workspace/plans).
PLANNER_PORT ?= 8866
REGISTERS ?=
PLANNER_RUN := $(or $(TMPDIR),/tmp)/dsr-planner-$(shell id -u)
planner: venv
	@mkdir -p $(PLANNER_RUN)
	$(BIN)/papermill --prepare-only --no-progress-bar -k python3 \
		-r registers "$(if $(REGISTERS),$(abspath $(REGISTERS)))" \
		notebooks/planner.ipynb $(PLANNER_RUN)/planner.ipynb
	$(BIN)/voila $(PLANNER_RUN)/planner.ipynb --port=$(PLANNER_PORT) --no-browser \
		--Voila.ip=127.0.0.1 --preheat_kernel=True --pool_size=1

# Rebuild every committed notebook from its spec in scripts/notebooks/ and run its small
# default with papermill (the outputs nbval then checks in `make test`).
NOTEBOOK_SPECS := $(shell find scripts/notebooks -name '*.py' ! -name '_*' | sort)
notebooks: venv
	@for spec in $(NOTEBOOK_SPECS); do \
		nb=notebooks/$${spec#scripts/notebooks/}; nb=$${nb%.py}.ipynb; \
		echo "$$nb"; \
		$(BIN)/python scripts/make_notebook.py $$spec $$nb && \
		$(BIN)/papermill --no-progress-bar -k python3 --cwd $$(dirname $$nb) $$nb $$nb || exit 1; \
	done

lint: venv
	$(BIN)/ruff check dsr_analysis tests

clean:
	rm -rf $(VENV) outputs/*
