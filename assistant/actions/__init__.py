"""Custom actions for the resident web chat (rasa-sdk 3.6, Python 3.10).

Thin adapters: they send what the resident said to the app's API (over HTTP, since the app
runs in its own Python 3.11 environment) and turn the next question or the decision into
messages. No thresholds, routing or clinical tables live here.
"""
