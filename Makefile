# The two set-up commands of README.md are `make figures` and `make test`; both start with `make deps`.
SWIFT       ?= swift
RELEASE     := -c release
BIN         := .build/release
APT_PACKAGES := libopenblas-dev libdnnl-dev libcairo2-dev libpng-dev zlib1g-dev fonts-dejavu-core pkg-config

.PHONY: deps build test figures bench bench-torch clean

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

figures: build
	$(BIN)/bnrepro run

bench: build
	$(BIN)/bnrepro-bench

clean:
	rm -rf .build
