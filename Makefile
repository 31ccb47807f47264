# ckpt: the two commands in README.md (`make demo`, `make test`) plus bench and crosscheck.
SWIFT ?= swift
# Release builds for speed target Haswell-class CPUs (AVX2, FMA, F16C); see shared swift-notes.
RELEASE_FLAGS ?= -c release -Xswiftc -target-cpu -Xswiftc haswell

.PHONY: demo test build release bench crosscheck setup clean

setup:
	@scripts/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build $(RELEASE_FLAGS)

# The main job as far as it exists: inspect the real model, requantize it to Q8_0 as llama-quantize
# would, inspect the result, chat with it, and measure how far the Q8_0 copy is from the original.
demo: release
	@model="$$(scripts/fetch-models)" && \
	  bin="$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)" && \
	  out="$$(dirname "$$model")/demo-Q8_0.gguf" && \
	  echo "+ ckpt inspect $$model" && "$$bin/ckpt" inspect "$$model" && \
	  echo "+ ckpt quantize $$model $$out Q8_0 --allow-requantize --force" && \
	  "$$bin/ckpt" quantize "$$model" "$$out" Q8_0 --allow-requantize --force 2>&1 | tail -4 && \
	  echo "+ ckpt inspect $$out | head -12" && "$$bin/ckpt" inspect "$$out" | head -12 && \
	  echo "+ ckpt generate $$out --chat 'Write one sentence about the moon.' -n 48" && \
	  "$$bin/ckpt" generate "$$out" --chat "Write one sentence about the moon." -n 48 && \
	  echo "+ ckpt compare $$model $$out -f /usr/share/common-licenses/GPL-3 --chunks 2 | head -8" && \
	  "$$bin/ckpt" compare "$$model" "$$out" -f /usr/share/common-licenses/GPL-3 --chunks 2 2>/dev/null | head -8

# Tests run concurrently in one process; OpenBLAS's own thread pool, shared by all of them, then
# oversubscribes the cores and its results depend on which test set the thread count last (training's
# bit-exact resume test saw both: 0.6 s and exact with one BLAS thread, 387 s and inexact without).
test: setup
	OPENBLAS_NUM_THREADS=1 $(SWIFT) test

bench: release
	scripts/bench/inspect
	scripts/bench/quantize
	scripts/bench/generate
	scripts/bench/train

crosscheck: release
	scripts/crosscheck

clean:
	rm -rf .build
