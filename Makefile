# Two commands do everything on a fresh machine:
#   make synth   install, then synthesize the default config into cdktf.out/
#   make test    install, then run every check CI runs
PYTHON ?= python3
VENV := .venv
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
export PIPENV_IGNORE_VIRTUALENVS := 1
# The machine's Node is 20, past end-of-life; jsii prints a banner on every synth. The
# README says to use Node 22+; here the banner would only bury the output.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Bytecode: pip compiles nothing at install (the AWS provider's ~1,500 binding modules alone
# are ~40 s of CPU, most never imported); Python caches what a run imports, once, under the
# venv (not in the tree: lambda/ is an asset). PYTHONDONTWRITEBYTECODE would make every
# process compile its imports again. bench/README.md has the figures.
export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/.pycache
unexport PYTHONDONTWRITEBYTECODE

SYNCED := $(VENV)/.synced-$(shell cksum Pipfile.lock | cut -d' ' -f1)
CHECKOV_VENV := .venv-checkov
CHECKOV_READY := $(CHECKOV_VENV)/.ready-$(shell cksum tools/checkov-requirements.txt | cut -d' ' -f1)

.PHONY: install synth test test-python test-outside test-app test-stock test-node rehearse rehearse-all bench clean readme graphviz

install: $(SYNCED) graphviz

# Graphviz's dot draws `python -m tapinfra diagram`: from the OS packages when it is missing
# (Debian, as root, as in CI); quiet when it is there.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing graphviz (dot) for python -m tapinfra diagram"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; \
	  else echo "graphviz's dot is missing: apt-get install graphviz (python -m tapinfra diagram needs it)"; fi; }

# pipenv into a project-local venv; re-synced only when the lock changes.
$(SYNCED): Pipfile.lock
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet pipenv
	$(PYTHON) -m pipenv sync --dev --extra-pip-args=--no-compile
	@rm -f $(VENV)/.synced-*
	@touch $@

# checkov's pins clash with pytest's: it lives in its own venv.
$(CHECKOV_READY): tools/checkov-requirements.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --no-compile -r tools/checkov-requirements.txt
	@rm -f $(CHECKOV_VENV)/.ready-*
	@touch $@

synth: install
	$(VENV)/bin/python main.py

# The deploy rehearsal of the default and the full example runs beside the other checks.
# pytest is one process per target, each about a quarter of the suite's CPU, so the 2 cores
# stay busy to the end (bench/README.md): the library's own tests; the library from outside
# (the wheel in a scratch venv, main.py on the fast path, terraform, checkov) with the
# operator's tools; the application's (tests/app, no synth); the rehearsal.
OUTSIDE_TESTS := tests/operator tests/test_package.py tests/test_fast_import.py tests/test_terraform.py tests/test_checkov.py

test: install
	@$(MAKE) --no-print-directory -j6 --output-sync=target test-node test-python test-outside test-app test-stock rehearse

test-python: install
	$(VENV)/bin/python -m pytest tests -p no:cacheprovider --ignore=tests/lifecycle --ignore=tests/app $(OUTSIDE_TESTS:%=--ignore=%)

# checkov's venv is built here, beside the other targets, not before them.
test-outside: install $(CHECKOV_READY)
	TAP_CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(VENV)/bin/python -m pytest $(OUTSIDE_TESTS) -p no:cacheprovider

# The reference application's tests (the handler against moto, in process).
test-app: install
	$(VENV)/bin/python -m pytest tests/app -p no:cacheprovider

# The fast path (tapinfra/_fastimport) is an accelerator: the snapshots and the stack's
# foundation tests again on the stock path, so tapinfra is proven correct without it.
test-stock: install
	TAP_STOCK_IMPORT=1 $(VENV)/bin/python -m pytest tests/test_snapshots.py tests/test_stack.py -q -p no:cacheprovider

test-node:
	node --test tests/canary/

# The deploy rehearsal (tests/lifecycle, through `tapinfra rehearse`'s own entry function):
# the default example's full cycle (apply, plan, update, plan -replace, protected plan -destroy,
# destroy) and the full example's core cycle (no update or replace), side by side, each against
# a moto server of its own. rehearse-all: the full cycle for both. Others:
# TAP_REHEARSAL_EXAMPLES=default,library, or `tapinfra rehearse --config FILE` on your own.
# Terraform's Go collector: GOGC=800 here (the library's own default is 400, for users'
# machines): ~10 % less CPU for up to ~1 GB per Go process; the ~8 at once fit (bench/README.md).
REHEARSAL_GOGC ?= 800
rehearse: install
	GOGC=$(REHEARSAL_GOGC) TAP_REHEARSAL_EXAMPLES=default,full TAP_REHEARSAL_CORE=full $(VENV)/bin/python -m pytest tests/lifecycle -p no:cacheprovider

rehearse-all: install
	GOGC=$(REHEARSAL_GOGC) TAP_REHEARSAL_EXAMPLES=default,full TAP_REHEARSAL_CORE= $(VENV)/bin/python -m pytest tests/lifecycle -p no:cacheprovider

bench: install
	$(VENV)/bin/python bench/bench_synth.py
	$(VENV)/bin/python bench/bench_handler.py
	$(VENV)/bin/python bench/profile_kernel.py --config examples/full.json --top 10

clean:
	rm -rf cdktf.out .pytest_cache .hypothesis

readme: install
	$(VENV)/bin/python tools/update_readme.py

# cdktf through its CLI, without the noise we can switch off: cdktf's HashiCorp checkpoint
# lookup (an [ERROR] line on machines without internet) and Node's end-of-life banner.
# Air-gapped: make cli-config, export the line it prints, add CDKTF_FLAGS=--skip-provider-lock.
CDKTF ?= npx --yes cdktf-cli@0.21.0
CDKTF_FLAGS ?=
CDKTF_ENV = CHECKPOINT_DISABLE=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=$(shell node --version 2>/dev/null | sed 's/^v//; s/\..*//')

.PHONY: cli-config diff deploy

cli-config: install
	$(VENV)/bin/python -m tapinfra cli-config --out $(CURDIR)/terraform.rc

diff: install
	$(CDKTF_ENV) $(CDKTF) diff $(CDKTF_FLAGS)

deploy: install
	$(CDKTF_ENV) $(CDKTF) deploy $(CDKTF_FLAGS)
