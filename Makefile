# The course's commands. `make lab` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
STUDENT_VENV ?= .venv-student
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
# the edition make student-lab opens: en, or zh (中文版)
EDITION ?= en
PYTEST_ARGS ?= -n auto --dist loadgroup
ASSIGNMENT ?= *
# Every environment installs through the lock (exact versions of every package; the pyproject files hold
# ranges): pip install -c $(LOCK) .... `make lock` regenerates it; tests/test_packaging.py fails when stale.
LOCK := requirements/lock.txt
# what `make install` (and so `make test`) installs: the course with every audience's extra, and the grader
EXTRAS := dev,author,browser,hub

BROWSER_PACKAGES := chromium fonts-noto-cjk
SANDBOX_PACKAGES := bubblewrap

.PHONY: help install lock sandbox browser lab test lint test-fast notebooks new-chapter release publish collect autograde feedback grades flags student-lab clean hub hub-deps

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(STAMP): pyproject.toml grader/pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0] + ": run  make PYTHON=/path/to/python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c $(LOCK) pip
	$(BIN)/python -m pip install -c $(LOCK) -e ".[$(EXTRAS)]" -e ./grader
	touch $(STAMP)

install: $(STAMP) ## create .venv from the lock: the course, the grader (hidden checks), JupyterLab, nbgrader, the dev/author/browser/hub extras

# The lock is compiled by pip-tools (pinned, with what it runs on, in requirements/tools.txt) in a venv of its
# own, on the oldest Python the environments use (the hub's /usr/bin/python3.11: a package that needs a newer
# 3.11.x must not be locked), through pip, which takes the local CPU torch wheel where there is one. That build's
# local label is dropped (torch==2.13.0+cpu -> torch==2.13.0): the same pin takes the CUDA build on a CUDA machine.
LOCK_TOOLS ?= build/lock-tools
lock: ## regenerate requirements/lock.txt from the pyproject files (pip-compile; keeps the pins that still fit)
	test -x $(LOCK_TOOLS)/bin/python || $(HUB_PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install -q -r requirements/tools.txt
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet --strip-extras \
		--no-emit-find-links --no-emit-index-url --no-emit-trusted-host \
		--unsafe-package transformer-course --unsafe-package transformer-course-grader \
		--output-file $(LOCK) requirements/lock.in
	sed -i -E 's/^(torch==[0-9.]+)\+[a-z0-9.]+$$/\1/' $(LOCK)
	$(LOCK_TOOLS)/bin/python requirements/direct.py >> $(LOCK)
	@! grep -qiE '^(nvidia-|triton==)' $(LOCK) || { echo "the lock took a CUDA torch: run make lock where pip sees the CPU wheel"; exit 1; }

lab: $(STAMP) ## install, then open the course in JupyterLab (instructor view)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root,)

sandbox: ## Debian's bubblewrap, the sandbox every grading run puts student code in (apt-get as root; elsewhere it says how)
	@if command -v bwrap >/dev/null || [ -x /usr/bin/bwrap ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y $(SANDBOX_PACKAGES) || { apt-get update && apt-get install -y $(SANDBOX_PACKAGES); }; \
	else echo "note: grading needs bubblewrap: sudo apt-get install $(SANDBOX_PACKAGES) (grading refuses to start without it)"; fi

browser: ## Debian's chromium and CJK fonts for the browser test (apt-get as root; elsewhere it says how)
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y $(BROWSER_PACKAGES) || { apt-get update && apt-get install -y $(BROWSER_PACKAGES); }; \
	else echo "note: the browser test is skipped until Debian/Ubuntu's $(BROWSER_PACKAGES) are installed (sudo apt-get install $(BROWSER_PACKAGES))"; fi

test: $(STAMP) sandbox browser hub-deps ## install, lint (ruff), then run the whole test suite (the browser test too, where chromium can be installed)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff on the whole tree (configured in pyproject.toml)
	$(BIN)/ruff check .

test-fast: $(STAMP) ## the suite without the slow nbgrader/notebook tests
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not slow"

notebooks: $(STAMP) ## write source/ from the chapter texts chapters/NN-name.py (the files to edit)
	$(BIN)/python -m tools.notebooks build

new-chapter: $(STAMP) ## scaffold NAME=09-something: text source, checks, experiments, glossary, tests (one example exercise)
	$(BIN)/python -m tools.new_chapter "$(NAME)"

release: notebooks ## regenerate source/, then release/ and solutions/ from it (ASSIGNMENT=05-attention for one)
	$(BIN)/python -m course_grader.pipeline release --assignment "$(ASSIGNMENT)"

publish: $(STAMP) ## release ASSIGNMENT=01-compute to the students via the exchange (DUEDATE="2026-12-01 23:59:00 UTC")
	$(BIN)/python -m course_grader.pipeline publish --assignment "$(ASSIGNMENT)" $(if $(DUEDATE),--duedate "$(DUEDATE)",)

collect: $(STAMP) ## collect ASSIGNMENT's submissions from the exchange into submitted/
	$(BIN)/python -m course_grader.pipeline collect --assignment "$(ASSIGNMENT)"

autograde: $(STAMP) sandbox ## autograde every submission in submitted/, students in parallel (ASSIGNMENT=01-compute for one; KERNEL=0: no kernel run, twice as fast)
	$(BIN)/python -m course_grader.pipeline autograde --assignment "$(ASSIGNMENT)" $(if $(filter 0,$(KERNEL)),--no-kernel,) $(if $(filter 1,$(UNSAFE_NO_SANDBOX)),--unsafe-no-sandbox,)

feedback: $(STAMP) ## feedback HTML into feedback/ and, for one ASSIGNMENT, back to the students via the exchange
	$(BIN)/python -m course_grader.pipeline feedback --assignment "$(ASSIGNMENT)"

grades: $(STAMP) ## export every grade to grades.csv
	$(BIN)/python -m course_grader.pipeline grades --output grades.csv

flags: $(STAMP) ## list tamper flags and grading problems found by autograde (CSV)
	$(BIN)/python -m course_grader.pipeline flags

# what a student installs: the course package alone, not editable (no checkout on the path), never the grader
$(STUDENT_VENV)/.installed: pyproject.toml $(LOCK) $(shell find course -name "*.py" -o -name "*.tsv")
	test -x $(STUDENT_VENV)/bin/python || $(PYTHON) -m venv $(STUDENT_VENV)
	$(STUDENT_VENV)/bin/python -m pip install -c $(LOCK) pip
	$(STUDENT_VENV)/bin/python -m pip install -c $(LOCK) .
	$(STUDENT_VENV)/bin/python -m course.student_env lock
	touch $@

student-lab: $(STUDENT_VENV)/.installed ## what a student gets: no formgrader, no create-assignment; opens release/ (EDITION=zh: release-zh/, 中文版)
	@case "$(EDITION)" in en|zh) ;; *) echo "make student-lab: EDITION is en or zh (中文版), got '$(EDITION)'"; exit 1;; esac
	cd $(if $(filter zh,$(EDITION)),release-zh,release) && ../$(STUDENT_VENV)/bin/jupyter lab --port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root,)

clean: ## remove the virtual environments and grading output
	rm -rf $(VENV) $(STUDENT_VENV) autograded feedback gradebook.db $(HUB_VENV) $(HUB_STUDENT_VENV) hub/node/node_modules

# ---- A class on JupyterHub (README: "A class on JupyterHub") ------------------------------------------
# The hub's environments are built from a Python every account can run (pyenv's lives under /root, mode 700):
# the hub + instructor environment (jupyterhub, the course, the grader) and the student environment (the
# course package alone, instructor tools locked off). configurable-http-proxy comes from npm into hub/node.
HUB_PYTHON ?= $(shell command -v /usr/bin/python3.11 2>/dev/null || echo $(PYTHON))
HUB_VENV ?= hub/.venv
HUB_STUDENT_VENV ?= hub/.venv-student
HUB_PORT ?= 8000
CHP := hub/node/node_modules/.bin/configurable-http-proxy

$(HUB_VENV)/.installed: pyproject.toml grader/pyproject.toml $(LOCK)
	test -x $(HUB_VENV)/bin/python || $(HUB_PYTHON) -m venv $(HUB_VENV)
	$(HUB_VENV)/bin/python -m pip install -c $(LOCK) pip
	$(HUB_VENV)/bin/python -m pip install -c $(LOCK) -e ".[hub]" -e ./grader
	touch $@

# the student environment of make student-lab, plus jupyterhub-singleuser (the hub starts each student's server with it)
$(HUB_STUDENT_VENV)/.installed: pyproject.toml $(LOCK) $(shell find course -name "*.py" -o -name "*.tsv")
	test -x $(HUB_STUDENT_VENV)/bin/python || $(HUB_PYTHON) -m venv $(HUB_STUDENT_VENV)
	$(HUB_STUDENT_VENV)/bin/python -m pip install -c $(LOCK) pip
	$(HUB_STUDENT_VENV)/bin/python -m pip install -c $(LOCK) ".[hub]"
	$(HUB_STUDENT_VENV)/bin/python -m course.student_env lock
	touch $@

$(CHP): hub/node/package.json hub/node/package-lock.json
	npm ci --prefix hub/node --no-audit --no-fund
	touch $@

hub-deps: ## what the hub and its tests need: both hub environments, the proxy (npm), PostgreSQL (apt, as root)
	$(MAKE) $(HUB_VENV)/.installed $(HUB_STUDENT_VENV)/.installed $(CHP)
	@if command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y postgresql || { apt-get update && apt-get install -y postgresql; }; \
	else echo "note: the PostgreSQL gradebook test is skipped until Debian's postgresql is installed"; fi

hub: hub-deps ## JupyterHub for a class on 127.0.0.1:HUB_PORT (run as root: PAM logins, one Unix account per person)
	@d="$(CURDIR)"; while [ "$$d" != / ]; do [ -n "$$(find "$$d" -maxdepth 0 -perm -o=x)" ] || { echo "make hub: every account runs $(HUB_STUDENT_VENV) in this checkout, but others may not enter $$d: put the course where they can (a clone under /srv), or chmod o+x $$d"; exit 1; }; d=$$(dirname "$$d"); done
	PATH="$(CURDIR)/hub/node/node_modules/.bin:$(CURDIR)/$(HUB_VENV)/bin:$$PATH" HUB_PORT=$(HUB_PORT) \
		$(HUB_VENV)/bin/jupyterhub -f hub/jupyterhub_config.py
