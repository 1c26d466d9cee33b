"""The outcome's words for the chat page: they live in the dialogue package (spoa.dialogue.wording)."""
from spoa.dialogue.wording import outcome_lines, outcome_view, when_in_words  # noqa: F401
