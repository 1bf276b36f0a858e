#!/usr/bin/env bash
# First run of t2vid on a fresh Debian/Ubuntu machine: install what is missing, render the
# built-in sample, write a contact sheet of its first sample, and say where both are.
#
#   bash scripts/demo.sh [OUTPUT_DIR]      (default: ./t2vid-demo)
#
# Installs fonts with apt-get (as root, or through sudo) and the package with pip (into the
# active virtualenv, or into .venv when the system Python is externally managed, as on Debian 12).
# Everything it runs is this checkout's code.
set -euo pipefail
start_dir=$PWD
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$start_dir/t2vid-demo}")
python=${PYTHON:-python3}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "demo: need root for: $*" >&2; exit 1
  fi
}

packages="fontconfig fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji"
if command -v dpkg >/dev/null 2>&1; then
  missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | tr '\n' ' ')
  if [ -n "${missing// /}" ]; then
    echo "demo: installing fonts: $missing"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
else
  echo "demo: not a Debian system; install fontconfig, DejaVu and Noto CJK fonts yourself" >&2
fi

has_dependencies() { "$1" -c "import PIL, click, datasets, tqdm, numpy, jsonlines, fontTools, yaml" 2>/dev/null; }

if has_dependencies "$python"; then
  :
elif [ -x "$repo/.venv/bin/python" ] && has_dependencies "$repo/.venv/bin/python"; then
  python=$repo/.venv/bin/python  # installed by an earlier run
else
  managed=$("$python" -c "import os, sys, sysconfig; print(int(sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED'))))")
  if [ "$managed" = 1 ]; then
    "$python" -m venv --help >/dev/null 2>&1 && "$python" -c "import ensurepip" 2>/dev/null || as_root apt-get install -y -qq python3-venv >/dev/null
    echo "demo: the system Python is externally managed; installing into $repo/.venv"
    [ -x "$repo/.venv/bin/python" ] || "$python" -m venv "$repo/.venv"
    python=$repo/.venv/bin/python
  fi
  if ! "$python" -m pip --version >/dev/null 2>&1; then
    as_root apt-get install -y -qq python3-pip >/dev/null
  fi
  echo "demo: installing the t2vid package and its dependencies (pip install -e $repo)"
  "$python" -m pip install -q -e "$repo"
fi

t2vid() { PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$python" -m t2vid.cli "$@"; }

t2vid synth -o "$out/synth"
t2vid preview "$out/synth" --index 0 -o "$out/preview-0.png" >/dev/null
echo
echo "demo: samples      $out/synth/shards/shard-00000.jsonl (frames under $out/synth/frames/)"
echo "demo: preview      $out/preview-0.png"
if [ "$python" = "$repo/.venv/bin/python" ]; then
  echo "demo: next         . $repo/.venv/bin/activate && t2vid synth YOUR_DATA.jsonl -o out/"
elif type -P t2vid >/dev/null && command t2vid --version >/dev/null 2>&1; then
  echo "demo: next         t2vid synth YOUR_DATA.jsonl -o out/   (README.md: your own data)"
else
  echo "demo: next         pip install -e $repo   (for the t2vid command), then: t2vid synth YOUR_DATA.jsonl -o out/"
fi
