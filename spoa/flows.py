"""The questions and the reading of answers, kept importable under their old name: they live
in the dialogue package (spoa.dialogue.questions, spoa.dialogue.answers)."""
from spoa.dialogue.answers import AnswerError, answer_to_facts, parse_answer  # noqa: F401
from spoa.dialogue.questions import (  # noqa: F401
    AUDIENCES, KINDS, NONE, UNKNOWN, FlowError, Flows, OptionSpec, Question, QuestionSpec, all_questions,
    build_question, contract_facts, load_flows, question_by_id,
)
