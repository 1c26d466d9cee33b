#!/usr/bin/env bash
# `make evaluate`: NLU cross-validation of the Rasa model's intents, then the chat measured
# through the REST channel (turn latency, questions per contact). Reports go to reports/rasa/
# (gitignored). Not part of `make test`: the cross-validation trains the NLU model 5 times.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
out=reports/rasa
mkdir -p "$out"

echo "NLU cross-validation (rasa's default 5 folds; about 10 minutes on 2 cores)..."
(cd assistant && ../.venv-rasa/bin/rasa test nlu --nlu data/nlu --config config.yml \
    --cross-validation --out "../$out/nlu_cross_validation")
.venv-rasa/bin/python - "$out/nlu_cross_validation/intent_report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print("intent F1 (cross-validation): weighted %.3f, macro %.3f, accuracy %.3f" % (
    report["weighted avg"]["f1-score"], report["macro avg"]["f1-score"], report["accuracy"]))
for name, row in sorted(report.items()):
    if isinstance(row, dict) and "support" in row and name not in ("weighted avg", "macro avg", "micro avg"):
        print(f"  {name:<20} f1 {row['f1-score']:.3f}  ({row['support']} examples)")
PY

echo "Chat through the REST channel (starts the app, the action server and Rasa)..."
.venv/bin/python assistant/chat_eval.py --out "$out"
