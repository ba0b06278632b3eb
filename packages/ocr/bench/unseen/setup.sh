#!/usr/bin/env bash
# Installs the captcha families the model never trains on, once: two from Debian (Gregwar/Captcha,
# PHP; django-simple-captcha, Python), rendered with their packages' default settings by
# gregwar.php and django-captcha.py, and two from npm (this folder's package.json).
set -euo pipefail
cd "$(dirname "$0")"
PACKAGES=(php-cli php-gd php-gregwar-captcha python3-django-captcha)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules/captcha.gif ]; then
  npm install --no-audit --no-fund
fi
