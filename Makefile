# ckpt: the two commands in README.md (`make demo`, `make test`) plus bench and crosscheck.
SWIFT ?= swift
# Release builds for speed target Haswell-class CPUs (AVX2, FMA, F16C; kernels needing more pick at run time). The Swift
# runtime and Foundation are linked in (--static-swift-stdlib): a self-contained binary that starts in
# 15 ms instead of 25 (loading and relocating the runtime's shared libraries), which every short command
# pays (GPT-2 small HF → GGUF takes ~0.2 s in all). The binary is ~80 MB instead of ~13.
RELEASE_FLAGS ?= -c release -Xswiftc -target-cpu -Xswiftc haswell --static-swift-stdlib

.PHONY: demo test build release bench crosscheck setup clean

setup:
	@scripts/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build $(RELEASE_FLAGS)

# The main job (scripts/demo): SmolLM2 as the teacher and a student without 2 of its 30 blocks, both fine-tuned on
# the bundled data, the student distilled with PromptKD, quantized to Q4_K_M (teacher-aware), evaluated (ROUGE-L,
# KL to the teacher, sizes, speeds) and asked a question; about 14 minutes here (2 cores).
demo: release
	scripts/demo

# Tests run concurrently in one process; OpenBLAS's own thread pool, shared by all of them, then
# oversubscribes the cores and its results depend on which test set the thread count last (training's
# bit-exact resume test saw both: 0.6 s and exact with one BLAS thread, 387 s and inexact without).
test: setup
	@scripts/fetch-test-data >/dev/null
	OPENBLAS_NUM_THREADS=1 $(SWIFT) test

bench: release
	scripts/python-references
	scripts/bench/inspect
	scripts/bench/quantize
	scripts/bench/generate
	scripts/bench/train
	scripts/bench/convert
	scripts/bench/distill
	scripts/bench/tokenize

crosscheck: release
	scripts/crosscheck

clean:
	rm -rf .build
