#!/usr/bin/env bash
# Make .venv-rasa: Rasa Open Source 3.6.21 and rasa-sdk need Python 3.10, so the Rasa server
# and the action server get their own environment, apart from the app's Python 3.11 .venv.
# Python 3.10 is found as $PY310, then python3.10 on PATH, then under ~/.pyenv/versions/3.10.*.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  for candidate in "${PY310:-}" "$(command -v python3.10 || true)" $(ls -d "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do
    if [ -n "$candidate" ] && [ -x "$candidate" ] \
        && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if ! PYTHON=$(find_python310); then
  cat >&2 <<'MSG'
error: the Rasa assistant needs Python 3.10 (Rasa Open Source 3.6 does not run on 3.11 or later),
and none was found: not $PY310, not python3.10 on PATH, not ~/.pyenv/versions/3.10.*.
Install it (for example `pyenv install 3.10.13`, or your distribution's python3.10 with its
venv module), or point PY310 at it: `make rasa-setup PY310=/path/to/python3.10`.
MSG
  exit 1
fi

echo "Setting up .venv-rasa with $PYTHON (Rasa 3.6.21, tensorflow 2.12: a few minutes the first time)"
rm -f .venv-rasa/.installed
"$PYTHON" -m venv .venv-rasa
.venv-rasa/bin/pip install --quiet "pip==24.0"
# The constraints file pins every transitive package to a set known to work together.
.venv-rasa/bin/pip install --quiet -r assistant/requirements.txt -c assistant/constraints.txt
.venv-rasa/bin/pip check
touch .venv-rasa/.installed
echo ".venv-rasa is ready: $(.venv-rasa/bin/python -c 'import rasa, rasa_sdk; print("rasa", rasa.__version__, "rasa-sdk", rasa_sdk.__version__)')"
