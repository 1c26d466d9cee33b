#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser tests (Playwright drives
# /usr/bin/chromium; it never downloads a browser of its own). Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing and this is not root: install Debian's 'chromium' package" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
/usr/bin/chromium --version
