# The two commands of the README: `make demo` runs the main job, `make test` runs the tests.
SHELL := /bin/bash
SWIFT ?= swift

.PHONY: deps build release fixtures test demo bench bench-smoke lint clean

deps:
	scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

fixtures: deps
	Tests/Fixtures/make-fixtures.sh

# Builds first so tests can spawn the real `image-worker` binary as child processes.
test: build fixtures
	scripts/check-c-imports.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build 2>&1 | tee .build/test-output.txt; status=$${PIPESTATUS[0]}; \
		if [ $$status -ne 0 ]; then scripts/test-postmortem.sh .build/test-output.txt $$status; fi; exit $$status

demo: build fixtures
	scripts/demo.sh

# Measurement (docs/bench.md): full run writes bench/out/results.json; smoke checks the bench itself.
bench: deps
	bench/run.sh

bench-smoke: deps
	BENCH_QUICK=1 bench/run.sh

clean:
	rm -rf .build Tests/Fixtures/out
