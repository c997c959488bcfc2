# The two entry points of README.md: `make demo` and `make test`. Both install missing Debian packages first.
BUILD ?= build
JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo

.PHONY: deps test-deps configure build test demo bench clean format

deps:
	./deploy/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The tests also run on Apache Kafka (issue 14): a JRE and Maven from Debian, the broker through Maven
# (cached outside the build folder); the ctest fixture apache_kafka starts it once per run.
test-deps:
	./deploy/install-deps.sh --test
	./deploy/kafka/local-kafka.sh fetch

test: test-deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 600

demo: build
	$(BUILD)/gate/claimgate demo
	$(BUILD)/gate/claimgate demo --events docs/examples/demo-2025.jsonl

bench: build
	$(BUILD)/bench/claimgate-bench check --lines 200000

format:
	find gate ledger bench tests -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
