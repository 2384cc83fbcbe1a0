# Shared by the .ci scripts: paths and installing what is missing.
# Source it; it sets ROOT, TARGET, SITE.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SITE=$TARGET/site
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_ensure PKG...: installs the Debian packages that are not installed yet.
apt_ensure() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The wasm-bindgen version the lock file resolved: the CLI must match it.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

WASM_SPLIT_VERSION=0.2.4

ensure_build_tools() {
  # Debian's second Rust toolchain builds the wasm (see docs/build.md).
  apt_ensure rustc-web cargo-web rust-web-src lld lld-19 gcc
  # The precompressed UI (.ci/build).
  apt_ensure gzip brotli
  command -v cargo >/dev/null || { echo "cargo (rustup) is required" >&2; exit 1; }
  local want; want=$(wasm_bindgen_version)
  if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $want"; then
    say "cargo install wasm-bindgen-cli $want"
    cargo install -q wasm-bindgen-cli --version "$want" --force
  fi
  # Cuts the wasm into the part every page loads and the lazily loaded
  # routes' chunks (Leptos's #[lazy_route]; the format of
  # wasm_split_helpers in Cargo.lock).
  if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    say "cargo install wasm_split_cli_support $WASM_SPLIT_VERSION"
    cargo install -q wasm_split_cli_support --version "$WASM_SPLIT_VERSION" \
      --features build-binary --force
  fi
}

ensure_test_tools() {
  # Chromium for the browser tests; unshare/ip for their loopback-only
  # namespace (and sysctl for the veth pair the Janus test adds there).
  apt_ensure chromium util-linux iproute2 procps
  # The SMTP server the mail tests talk to (run with /usr/bin/python3).
  apt_ensure python3-aiosmtpd
  # The NTP server the clock tests sync with (run as /usr/sbin/chronyd -x:
  # it never sets the host's clock).
  apt_ensure chrony
  # The RTSP camera the video tests pull from: GStreamer's RTSP server
  # (tests/peers/rtsp_server.py, run with /usr/bin/python3).
  apt_ensure gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base \
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
    gstreamer1.0-libav python3-gi
  # Prometheus scrapes /metrics and its promtool lints the text
  # (tests/tests/metrics.rs); no daemon is started without systemd.
  apt_ensure prometheus
  # sipp: the SIP peer of the SIP server tests (tests/peers/sipp/).
  apt_ensure sip-tester
  # Kamailio: "another SIP server" the device registers to as a client.
  ensure_kamailio
  # baresip: a real SIP phone as indoor monitor (tests/tests/baresip.rs);
  # baresip-ffmpeg brings its H.264 codec (the door calls' video).
  apt_ensure baresip-core baresip-ffmpeg
  # ffmpeg: encodes the H.264 of the MP4 recording test and decodes what
  # server/media/src/mp4.rs wrote (ffprobe, ffmpeg).
  apt_ensure ffmpeg
  # The door's ALSA microphone and speaker (tests/tests/door_audio.rs, and
  # server/src/door/audio's unit tests: ALSA's file plugin, no sound card).
  apt_ensure libasound2 libasound2-data
  # The Dahua API clients integrators run (tests/tests/dahua_api.rs):
  # python-amcrest and aiodahua from PyPI, pinned, in a venv of Debian's
  # Python (tests/peers/dahua_clients.py); the ONVIF clients of
  # tests/tests/onvif_out.rs in the same venv: onvif-zeep-async (Home
  # Assistant's ONVIF library) and wsdiscovery (tests/peers/onvif_clients.py).
  apt_ensure python3-venv
  local venv="$ROOT/.venv-peers"
  if ! "$venv/bin/python" -c 'import amcrest, aiodahua, onvif, wsdiscovery' 2>/dev/null; then
    say "python venv for the Dahua and ONVIF clients"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check amcrest==1.9.9 aiodahua==0.5.0 \
      onvif-zeep-async==4.3.0 wsdiscovery==2.1.2
  fi
  # Janus: its streaming plugin relays the RTSP out to Chromium
  # (end2end/tests/rtsp_janus.test.mjs), as in the live video benchmark.
  ensure_janus
  # Certificates for the HTTPS upload browser test.
  apt_ensure openssl
  # Node may come from elsewhere (NodeSource ships npm inside nodejs).
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_ensure nodejs npm
  fi
  if [ ! -d "$ROOT/end2end/node_modules/playwright-core" ]; then
    say "npm install (end2end)"
    (cd "$ROOT/end2end" && npm install --no-audit --no-fund --silent)
  fi
}

ensure_bench_tools() {
  apt_ensure wrk nginx-light procps gzip curl
}

ensure_live_bench_tools() {
  # The RTSP camera: GStreamer's RTSP server (tests/peers/rtsp_server.py,
  # run with /usr/bin/python3); x264enc is in -ugly.
  apt_ensure gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base \
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly python3-gi
  # The network namespace the benchmark runs in, and curl.
  apt_ensure util-linux iproute2 procps curl
  # Janus (its streaming plugin relays the same camera for comparison).
  ensure_janus
}

ensure_janus() {
  # Debian enables it as a service on 0.0.0.0:8088 where systemd runs: when
  # we install it, we turn that off (tests and benchmark run their own).
  if ! dpkg-query -W -f='${Status}' janus 2>/dev/null | grep -q 'install ok installed'; then
    apt_ensure janus
    if [ -d /run/systemd/system ]; then
      as_root systemctl disable --now janus.service >/dev/null 2>&1 || true
    fi
  fi
}

ensure_rtsp_bench_tools() {
  # The RTSP camera and the GStreamer relay (tests/peers/rtsp_server.py and
  # rtsp_relay.py, run with /usr/bin/python3); x264enc is in -ugly.
  apt_ensure gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base \
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly python3-gi
  # The network namespace it runs in; curl sets vto up; ps for the notes.
  apt_ensure util-linux iproute2 procps curl
}

ensure_sip_bench_tools() {
  # sipp drives both SIP servers; curl sets vto up; ps/free for the notes.
  apt_ensure sip-tester procps curl
  # Kamailio (registrar + proxy) for comparison.
  ensure_kamailio
}

ensure_kamailio() {
  # Debian enables it as a service on the host's SIP port where systemd
  # runs: when we install it, we turn that off (tests and benchmark run
  # their own instance on loopback).
  if ! dpkg-query -W -f='${Status}' kamailio 2>/dev/null | grep -q 'install ok installed'; then
    apt_ensure kamailio
    if [ -d /run/systemd/system ]; then
      as_root systemctl disable --now kamailio.service >/dev/null 2>&1 || true
    fi
  fi
}
