#!/usr/bin/env bash
# Train the Rasa model if it is missing or its data changed. The stamp beside the model holds
# a hash of everything training reads (config, domain, data) and the pinned versions, so an
# unchanged project is not trained again. A lock stops two trainings at once (make run and
# make test in parallel).
set -euo pipefail
cd "$(dirname "$0")/../assistant"
export RASA_TELEMETRY_ENABLED=false

model=models/spoa.tar.gz
stamp=models/spoa.sha256
mkdir -p models

data_hash() {
  find config.yml domain.yml requirements.txt constraints.txt data -type f | LC_ALL=C sort \
    | xargs sha256sum | sha256sum | cut -d' ' -f1
}

exec 9>models/.train.lock
flock 9

hash=$(data_hash)
if [ -f "$model" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  echo "Rasa model is up to date (assistant/$model)"
  exit 0
fi

echo "Training the Rasa model (about 3 minutes on 2 cores; progress below)..."
start=$(date +%s)
rm -f "$stamp"
../.venv-rasa/bin/rasa train --fixed-model-name spoa --out models
echo "$hash" > "$stamp"
echo "Trained assistant/$model in $(( $(date +%s) - start )) s"
