# lwc: two commands do everything on a fresh Debian 12 machine.
#   make run    install missing packages (as root), build, code the bundled sample
#   make test   the same set-up, then every test (plain build and ASan+UBSan build;
#               the plain pass also runs each libFuzzer harness FUZZ_SECONDS, TSan,
#               and the NEON kernels cross-built for aarch64 under qemu-user)
#   make fuzz   only the libFuzzer runs (tests/cli_fuzz.sh), FUZZ_SECONDS per harness
#   make fuzz-ffmpeg   the FFmpeg codec wrapper under libFuzzer (needs build/ffmpeg)
#   make install PREFIX=DIR   build, then install bin/lwc, lib/liblwc.{a,so}, lib/pkgconfig/lwc.pc,
#               lib/lwc/lwc-libav.so (the CLI's FFmpeg plugin), include/lwc.h,
#               share/lwc/lwc-default.lwcm under DIR (default /usr/local)
#   make uninstall   remove exactly the files the last `make install` wrote
# Other targets: build, clean, deps.

BUILD      ?= build
BUILD_SAN  ?= build-san
PREFIX     ?= /usr/local
JOBS       ?= 2
SAMPLE     ?= docs/sample.png
QUALITY    ?= 50
BUILD_FUZZ ?= $(BUILD)-fuzz
FUZZ_SECONDS ?= 60
export FUZZ_SECONDS
# The files the last `make install` wrote: a copy of CMake's install_manifest.txt,
# which any later `cmake --install` of the tree (tests do one) overwrites.
INSTALL_MANIFEST ?= $(BUILD)/make_install_manifest.txt

BUILD_PKGS = cmake make gcc pkg-config libpng-dev libjpeg62-turbo-dev libopenblas-dev check libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
TEST_PKGS  = libjpeg-turbo-progs webp ffmpeg $(NEON_PKGS) $(TORCH_PKGS)
# tests/cli_train_gpu.sh: the PyTorch trainer (tools/train-gpu) on the CPU
TORCH_PKGS = python3-torch python3-numpy python3-pil
# tests/cli_neon.sh: aarch64 cross compiler, its libc (only "recommended"), qemu-user
NEON_PKGS  = gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
FUZZ_PKGS  = clang libclang-rt-14-dev

.PHONY: all run test build install uninstall clean deps deps-test deps-fuzz fuzz fuzz-ffmpeg

all: build

deps:
	@sh tools/install-deps.sh $(BUILD_PKGS)

deps-test:
	@sh tools/install-deps.sh $(BUILD_PKGS) $(TEST_PKGS) $(FUZZ_PKGS)

deps-fuzz:
	@sh tools/install-deps.sh $(BUILD_PKGS) $(FUZZ_PKGS)

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)

run: build
	@sh tools/run-sample.sh $(BUILD)/lwc $(SAMPLE) $(QUALITY)

test: deps-test $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DLWC_SANITIZE=ON
	cmake --build $(BUILD_SAN) -j$(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS) -LE slow

fuzz: deps-fuzz
	FUZZ_BUILD=$(BUILD_FUZZ) bash tests/cli_fuzz.sh - $(BUILD)

# The FFmpeg codec wrapper (tools/ffmpeg/liblwc.c) under libFuzzer, FUZZ_SECONDS
fuzz-ffmpeg: deps-fuzz
	bash tests/fuzz/ffmpeg-codec-fuzz.sh $(BUILD)

# --prefix: PREFIX wins over the prefix the tree was configured with. The CLI
# finds its model and its FFmpeg plugin next to itself (../share/lwc,
# ../lib/lwc) and lwc.pc is relocatable, so nothing needs rebuilding for a
# new prefix.
install: build
	cmake --install $(BUILD) --prefix "$(PREFIX)"
	@cp $(BUILD)/install_manifest.txt $(INSTALL_MANIFEST)

# Remove each file of the manifest (folders stay); keep the manifest if one fails.
uninstall:
	$(if $(wildcard $(INSTALL_MANIFEST)),,$(error make uninstall: no $(INSTALL_MANIFEST), so nothing to remove (make install writes it)))
	@while IFS= read -r f || [ -n "$$f" ]; do \
	  if [ -e "$$f" ] || [ -L "$$f" ]; then echo "-- Removing: $$f"; rm -f -- "$$f" || exit 1; fi; \
	done < $(INSTALL_MANIFEST)
	@rm -f $(INSTALL_MANIFEST)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ) $(BUILD)-tsan
