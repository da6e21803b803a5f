# The two set-up commands of README.md are `make figures` and `make test`; both start with `make deps`.
SWIFT       ?= swift
RELEASE     := -c release
BIN         := .build/release
# graphviz draws the report's DAG; chromium renders the report in the browser test (ReportTests); nginx
# serves a remote cache and openssl makes its self-signed certificate in RemoteCacheTests (`make figures`
# needs no remote).
APT_PACKAGES := libopenblas-dev libdnnl-dev libcairo2-dev libpng-dev zlib1g-dev fonts-dejavu-core pkg-config python3-numpy \
                graphviz chromium nginx openssl

.PHONY: deps build test test-slurm figures bench bench-torch onednn-probe clean kinds-lock

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "missing system packages; run: sudo apt-get install -y$$missing"; exit 1; fi

build: deps
	$(SWIFT) build $(RELEASE)

# Tests run in release: the numeric code is far too slow in debug builds.
test: deps
	$(SWIFT) build $(RELEASE) --build-tests -Xswiftc -enable-testing
	$(SWIFT) test $(RELEASE) -Xswiftc -enable-testing --skip-build

# Refreshes the source lock (Sources/Experiments/KindSourceLock.swift: each kind's version and the digest of
# the source that decides its outputs) after a change that cannot alter outputs, then rebuilds with it.
# After one that can, bump the kind's version first. `KindSourceLockTests` says which kinds need one or the other.
kinds-lock: deps
	$(SWIFT) build $(RELEASE) --build-tests -Xswiftc -enable-testing
	BNREPRO_WRITE_KIND_LOCK=1 $(SWIFT) test $(RELEASE) -Xswiftc -enable-testing --skip-build --filter KindSourceLockTests/testEveryKindsSourceMatchesTheLock
	$(SWIFT) build $(RELEASE) --build-tests -Xswiftc -enable-testing

# The Slurm executor's integration tests on a one-node cluster on this machine (as root: it installs
# slurm-wlm and munge when missing, starts the daemons, and stops them afterwards whatever the result).
# BNREPRO_SLURM_REQUIRED makes a cluster that did not answer a failure instead of a skip.
test-slurm: deps
	$(SWIFT) build $(RELEASE) --build-tests -Xswiftc -enable-testing
	scripts/slurm-test-cluster.sh start
	BNREPRO_SLURM_REQUIRED=1 SLURM_CONF="$${BNREPRO_SLURM_DIR:-/tmp/bnrepro-slurm}/slurm.conf" \
	  $(SWIFT) test $(RELEASE) -Xswiftc -enable-testing --skip-build --filter SlurmTests; \
	  status=$$?; scripts/slurm-test-cluster.sh stop; exit $$status

# The profile, parallel stages, and extra flags for the run (e.g. RUN_ARGS='--executor slurm').
PROFILE ?= quick
JOBS ?= 2
RUN_ARGS ?=
# A local copy of the CIFAR-10 binary tarball instead of the official URL (its own MD5 is computed here):
#   make figures CIFAR10=../shared/data/cifar-10-binary.tar.gz
CIFAR10 ?=
LOCAL_DATA := $(if $(CIFAR10),--set download.params.url=file://$(abspath $(CIFAR10)) \
             --set download.params.md5=$(shell md5sum $(CIFAR10) | cut -d' ' -f1))

figures: build
	$(BIN)/bnrepro run --profile $(PROFILE) -j $(JOBS) $(RUN_ARGS) $(LOCAL_DATA)
	$(BIN)/bnrepro claims --profile $(PROFILE) $(LOCAL_DATA)
	$(BIN)/bnrepro report --profile $(PROFILE) $(LOCAL_DATA)

bench: build
	OMP_NUM_THREADS=2 $(BIN)/bnrepro-bench

# PyTorch beside the engine, in one run (not part of CI). torch is the registry's default build from PyPI
# (no version pin: any recent torch runs bench/torch_resnet.py; the default Linux wheel is large because it
# carries CUDA libraries, which the CPU benchmark does not use), installed into bench/.venv.
# torch.compile on CPU generates and compiles C++: it needs a C++ compiler and the Python headers.
TORCH_VENV := bench/.venv
# Runs per row (make bench-torch REPEAT=3): engines rotated, then a summary of the median paired ratios.
REPEAT ?= 1
TORCH_APT_PACKAGES := g++ python3-dev python3-venv
bench-torch: build
	@missing=""; for p in $(TORCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing system packages; run: sudo apt-get install -y$$missing"; exit 1; fi; fi
	@test -x $(TORCH_VENV)/bin/python || python3 -m venv $(TORCH_VENV)
	@$(TORCH_VENV)/bin/python -c "import torch" 2>/dev/null || $(TORCH_VENV)/bin/pip install -q torch
	$(TORCH_VENV)/bin/python bench/compare.py $(BIN)/bnrepro-bench $(TORCH_VENV)/bin/python --repeat $(REPEAT)

# Every oneDNN implementation of the ResNets' convolutions, timed in the version the engine links (Debian's
# 2.x) and in oneDNN 3.2 built with GNU OpenMP, as the engine's loops need (PyPI's onednn-cpu-gomp; not
# linked by anything else), at 1 and 2 threads (not part of CI). Needs an idle machine.
ONEDNN3_DIR := bench/.onednn3
ONEDNN3_VERSION := 2023.2.0
onednn-probe: deps
	@test -d $(ONEDNN3_DIR)/lib || { mkdir -p $(ONEDNN3_DIR)/wheels && \
	  python3 -m pip download -q --no-deps -d $(ONEDNN3_DIR)/wheels onednn-cpu-gomp==$(ONEDNN3_VERSION) onednn-devel-cpu-gomp==$(ONEDNN3_VERSION) && \
	  for w in $(ONEDNN3_DIR)/wheels/*.whl; do python3 -m zipfile -e $$w $(ONEDNN3_DIR)/unpacked; done && \
	  mv $(ONEDNN3_DIR)/unpacked/onednn_cpu_gomp-*.data/data/lib $(ONEDNN3_DIR)/lib && \
	  mv $(ONEDNN3_DIR)/unpacked/onednn_devel_cpu_gomp-*.data/data/include $(ONEDNN3_DIR)/include; }
	gcc -O2 -Wall -o $(ONEDNN3_DIR)/probe-2 bench/onednn_conv_probe.c -ldnnl
	gcc -O2 -Wall -I$(ONEDNN3_DIR)/include -o $(ONEDNN3_DIR)/probe-3 bench/onednn_conv_probe.c \
	  -L$(ONEDNN3_DIR)/lib -l:libdnnl.so.3 -Wl,-rpath,$(abspath $(ONEDNN3_DIR)/lib)
	@echo "CPU: $$(lscpu | sed -n 's/^Model name: *//p'), load $$(cut -d' ' -f1 /proc/loadavg) at start"
	for t in 1 2; do for v in 2 3; do echo "== oneDNN $$v.x, $$t thread(s)"; OMP_NUM_THREADS=$$t $(ONEDNN3_DIR)/probe-$$v; done; done

clean:
	rm -rf .build
