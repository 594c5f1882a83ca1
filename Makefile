# The two commands the README promises: `make run` renders every lesson, `make test` runs the whole suite.
# Both install what is missing first (Debian packages with apt, as root or through sudo).

export PATH := /opt/swift/usr/bin:$(PATH)

APT_PACKAGES := libhiredis-dev libcurl4-openssl-dev libyaml-dev libsndfile1-dev zlib1g-dev libebur128-dev libsamplerate0-dev libssl-dev \
                redis-server espeak-ng
RQ_VERSION := 3.0.0
JSONSCHEMA_VERSION := 4.26.0
# RQ goes into a virtual environment of its own: Debian's python3 refuses system-wide pip installs (PEP 668).
RQ_VENV := .build/rq-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test build deps test-deps clean bench bench-limits bench-mastering

run: build
	.build/release/prerender build

build: deps
	swift build -c release --product prerender

test: test-deps
	swift build --build-tests
	PRERENDER_TEST_PYTHON=$(CURDIR)/$(RQ_VENV)/bin/python swift test --skip-build

# Debian packages the build and the tests need, installed only when missing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v swift >/dev/null || { echo "swift (6.x) is not on PATH: install the Swift toolchain (here: /opt/swift)"; exit 1; }

# RQ itself, pinned, for the tests that run `rq info` against a build; jsonschema to check written manifests.
test-deps: deps
	@if ! $(RQ_VENV)/bin/python -c 'import jsonschema, rq, sys; sys.exit(rq.VERSION != "$(RQ_VERSION)")' 2>/dev/null; then \
	  echo "installing rq==$(RQ_VERSION) and jsonschema into $(RQ_VENV)"; \
	  python3 -m venv $(RQ_VENV) 2>/dev/null || { \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null && python3 -m venv $(RQ_VENV); }; \
	  $(RQ_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "rq==$(RQ_VERSION)" "jsonschema==$(JSONSCHEMA_VERSION)"; \
	fi

# The benchmark suite against the Python RQ design (not a test): throughput end to end against an RQ
# SimpleWorker pool, enqueueing against enqueue_many and pipelined RPUSH, builds and no-op rebuilds of
# 1k/10k/100k lines with peak RSS, espeak-ng scaling, Redis commands a job, mastering against sox.
# One summary table, bench.json. About 15 minutes on 2 cores.
SOUNDFILE_VERSION := 0.13.1
bench: test-deps
	@command -v sox >/dev/null || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq sox >/dev/null
	@$(RQ_VENV)/bin/python -c 'import soundfile' 2>/dev/null || \
	  $(RQ_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "soundfile==$(SOUNDFILE_VERSION)"
	swift build -c release --product prerender
	swift build -c release --product bench
	PRERENDER_TEST_PYTHON=$(CURDIR)/$(RQ_VENV)/bin/python .build/release/bench all

# 200 jobs against the fake Murf server at 120 a minute: achieved rate, peak in flight, utilization.
bench-limits: deps
	swift build -c release --product prerender
	swift build -c release --product bench
	.build/release/bench limits

# Mastering cost per minute of audio, against sox's norm + silence + rate on the same files.
bench-mastering: deps
	@command -v sox >/dev/null || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq sox >/dev/null
	swift build -c release --product bench
	.build/release/bench mastering

clean:
	rm -rf .build
	find Output -mindepth 1 ! -name .gitkeep -delete
