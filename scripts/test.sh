#!/usr/bin/env bash
# Install everything the suite needs on a fresh Debian machine, then run it.
# System packages: fonts (DejaVu, Noto CJK, Noto Color Emoji), fontconfig, FriBiDi (bidi levels; Pillow's raqm loads it too)
# and Tesseract with Chinese data.
set -euo pipefail
cd "$(dirname "$0")/.."
packages="fontconfig libfribidi0 fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim"
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing
fi
python3 -m pip install -q -e ".[test]"
python3 -m pytest -q -p no:cacheprovider "$@"
