#!/usr/bin/env bash
# System packages the test suite needs: headless Chromium + chromedriver for the UI test, and
# Node.js/npm for Azurite (the Azure Storage emulator the Azure artifact tests start).
# Idempotent: does nothing when every binary is already present.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || missing+=(chromium chromium-driver)
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
