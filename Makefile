# Two commands do all the set-up on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install container-venv browser test lint typecheck unit bench eval model bundle demo clean

# The SageMaker scikit-learn container runs Python 3.10 (model/container.py). When this machine has
# one (on PATH, or installed with pyenv), `make unit` builds the training job's environment with it
# in .venv-training, and tests/test_model_pipeline.py runs the training job there.
PYTHON310 ?= $(shell for candidate in python3.10 $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10; do \
	$$candidate -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && command -v $$candidate && break; done)

# The virtualenv is rebuilt whenever a pinned requirement or the packaging changes: the pinned
# requirements, then the repository's own packages editable (pyproject.toml: the pipeline's parts;
# producers/pyproject.toml: the producer library), so `python -m ...` works from any folder. pip
# installs uv at its pin, and uv the rest (requirements.txt says why); pip stays in the virtualenv
# (stack/bundle.py fetches the Lambda's wheels with it).
$(INSTALLED): requirements.txt pyproject.toml producers/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$$(grep '^uv==' requirements.txt)"
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.txt
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e ./producers -e .
	touch $@

install: $(INSTALLED)

# The serving stack of SageMaker's scikit-learn container (sagemaker-containers on Python 3.10) for
# the endpoint tests and the demo. Where no Python 3.10 is found (or its install fails), the script
# writes why to .venv-sklearn-container.unavailable and model/server.py serves instead.
CONTAINER_VENV := .venv-sklearn-container
$(CONTAINER_VENV)/.installed: emulators/sklearn_container/requirements.txt emulators/sklearn_container/build-venv.sh
	PYTHON310="$(PYTHON310)" sh emulators/sklearn_container/build-venv.sh $(CONTAINER_VENV)

container-venv: $(CONTAINER_VENV)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The analyst console's browser test drives Debian's Chromium through Debian's chromedriver: installed
# here with apt where missing and possible (as root, or with sudo that asks no password); elsewhere
# the test is skipped and says why.
BROWSER_PACKAGES := chromium chromium-driver
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null || \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null; }; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null || \
	  { sudo apt-get update -q >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null; }; \
	else echo "browser: $(BROWSER_PACKAGES) missing and apt needs root: the console's browser test will be skipped"; fi

# The tests start what they need (moto's server on 127.0.0.1) and stop it when they finish. Two
# processes, each taking whole test modules (--dist loadfile), so a module's fixtures (a trained
# model, a simulated archive) are built once; `.venv/bin/pytest` alone runs them in one process.
TEST_PROCESSES ?= 2
unit: install emulators/node_modules/.installed container-venv browser $(if $(PYTHON310),.venv-training/.installed)
	$(BIN)/pytest --numprocesses $(TEST_PROCESSES) --dist loadfile

# Lint first (a second); then the type check beside the tests' set-up and the tests themselves:
# mypy's cold run (about 80 s on a fresh clone) and the two extra virtualenvs (about 2 minutes)
# would otherwise take their turns, and the tests spend much of their time waiting on emulators.
test: lint
	$(MAKE) --no-print-directory --jobs=3 typecheck unit

# kinesalite (npm) for Kinesis in tests, the demo and benchmarks, dynalite for the demo's tables;
# peer libraries for benchmarks only.
emulators/node_modules/.installed: emulators/package.json emulators/package-lock.json
	npm ci --prefix emulators --no-audit --no-fund --loglevel=error
	touch $@

# The container's own packages (pinned to its versions in requirements.txt), then the training
# source dir's requirements.txt, which the container installs before running train.py.
.venv-training/.installed: $(INSTALLED) model/build.py
	test -x .venv-training/bin/python || $(PYTHON310) -m venv .venv-training
	$(BIN)/python -m model.build --training-source .venv-training/source > /dev/null
	.venv-training/bin/python -m pip install --quiet \
		$$(grep -E '^(numpy|scipy|scikit-learn|joblib|threadpoolctl)==' requirements.txt) \
		-r .venv-training/source/requirements.txt
	touch $@

.venv-peers/.installed: benchmarks/peers/requirements.txt
	test -x .venv-peers/bin/python || $(PYTHON) -m venv .venv-peers
	.venv-peers/bin/python -m pip install --quiet -r benchmarks/peers/requirements.txt
	touch $@

# One JSON object per line: {"bench": ..., figures..., "baseline": {...}}.
bench: install emulators/node_modules/.installed .venv-peers/.installed
	$(BIN)/python -m benchmarks $(BENCH)

# Detection quality on CSIC 2010, simulated attacks and the trial logs: one JSON object per line (about 45 minutes).
eval: install
	$(BIN)/python -m model.evaluate

# A model.tar.gz for the SageMaker scikit-learn container, trained on ARCHIVE (a folder or s3:// URL);
# without ARCHIVE, on a week of simulated attack-free traffic archived as Firehose would.
ARCHIVE ?=
model: install
	$(BIN)/python -m model.build --archive "$(ARCHIVE)" --output build/model.tar.gz

# The scorer's Lambda zip (reproducible): sources, the pinned aarch64 wheels from PyPI, and the
# feature configuration of build/model.tar.gz (make model), the artifact the stack deploys.
SCORER_SOURCES := $(wildcard functions/scorer/*.py functions/archive_partitioner/*.py archive/*.py producers/vedette/*.py producers/vedette/*/*.py model/*.py model/*/*.py traffic/*.py)
build/scorer.zip: $(INSTALLED) $(SCORER_SOURCES) stack/bundle.py $(wildcard build/model.tar.gz)
	$(BIN)/python -m stack.bundle --model build/model.tar.gz --output $@

bundle: build/scorer.zip

# The whole pipeline on 127.0.0.1 (python -m local_pipeline --help for sizes); DEMO_ARGS passes options.
demo: install emulators/node_modules/.installed container-venv
	$(BIN)/python -m local_pipeline $(DEMO_ARGS)

clean:
	rm -rf $(VENV) $(CONTAINER_VENV) $(CONTAINER_VENV).unavailable .venv-training .pytest_cache .mypy_cache .ruff_cache
