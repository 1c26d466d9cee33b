"""The dialogue: one set of rules for the web chat (Rasa actions and the chat's guided form,
through web/dialogue_service.py) and the call-handler console (web/console_service.py).

- questions: loading `flows/*.yml` and building a question for the resident or the call handler;
- answers: reading an answer (a button, a console key, plain words), a denial of what a
  question presumed, and a request to change an answer;
- core: the next question, what an answer may overwrite, how facts heard in free text
  enter (partial lists), when to stop, and the end-of-dialogue steps;
- wording: the outcome in words (chat outcome, console read-back).

Pure: no Flask, no database, no I/O except `load_flows` reading the flow files at start-up.
"""
