#!/usr/bin/env bash
# Installs what data generation, training and the OCR benchmark need, once:
# - Debian: fonts for the synthetic renderer, PyTorch and ONNX for training (with jemalloc: see
#   train.sh), Tesseract for the baseline;
# - npm: the allowed third-party captcha generators (their own package.json; not a workspace, so
#   that the server's install stays small).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  python3-torch python3-onnx tesseract-ocr libjemalloc2
  fonts-dejavu fonts-liberation2 fonts-freefont-ttf fonts-urw-base35 fonts-crosextra-carlito
  fonts-crosextra-caladea fonts-roboto-unhinted fonts-open-sans fonts-lato fonts-cantarell
  fonts-comic-neue fonts-hack fonts-inconsolata fonts-linuxlibertine fonts-texgyre fonts-ebgaramond
)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules/svg-captcha ]; then
  npm install --no-audit --no-fund
fi
