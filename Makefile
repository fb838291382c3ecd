# kmembook - two entry points for a fresh machine (see README):
#   make book   install, fetch the offline JavaScript, build the HTML book (every notebook executed, -W)
#   make test   install, make sure Chromium and bubblewrap exist, run every test (unit, nbval, the -W build, the browser)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: book test install assets browser sandbox lab-tools notebooks bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt

# require.js, @jupyter-widgets/html-manager and MathJax from the npm registry into _build/offline-assets/
# (the build also does this by itself; this target just makes the download visible).
assets: install
	$(PY) tools/offline_assets.py

book: install assets
	$(VENV)/bin/jupyter-book build . -W -n --keep-going --all
	@echo
	@echo "The book is in $(CURDIR)/_build/html/ - open $(CURDIR)/_build/html/index.html in a browser (works offline)."

browser:
	bash tools/ensure_chromium.sh

# bubblewrap: the sandbox `kmemlib homework grade` runs every submission in (apt-get as root, like Chromium).
sandbox:
	bash tools/ensure_bwrap.sh

# qemu-system-x86, busybox-static, gcc-12, make, dwarves for tests/test_lab.py (apt-get, as root only)
lab-tools:
	bash tools/ensure_lab.sh

test: install browser sandbox lab-tools
	$(PY) -m pytest

# After editing a chapter: re-execute the notebooks in place so their stored outputs (checked by nbval) are current.
notebooks: install
	$(PY) tools/execute_notebooks.py

# Speed tables (targets in the README); not part of the tests.
bench: install
	$(PY) bench/bench_buddy.py
	$(PY) bench/bench_kmalloc.py
	$(PY) bench/bench_grading.py

clean:
	rm -rf _build
