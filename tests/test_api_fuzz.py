"""Schemathesis against /api/openapi.json, served by the WSGI app in-process (issue 9, item 6).

Every operation in the document is called with generated requests (bounded: a few examples
each, so the module runs in a minute or two) on SQLite and on PostgreSQL, once with the
service token and once with a staff session (a call handler, who may use the console, and a
supervisor, who may read the lists and the audit log). Each answer must be no 5xx and must
conform to the document (status code, content type, body schema).
"""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance
from hypothesis import HealthCheck, given, settings

from conftest import SERVICE_TOKEN, create_user, csrf_token, login, make_app
from test_chat_page import chat_settings, chat_triage

pytestmark = pytest.mark.fuzz

EXAMPLES = 8
# Every other check runs (no 5xx; status code, content type, headers and body as documented).
# ignored_auth re-sends with made-up credentials, which the session cookie given here
# overrides (who may call what is test_api.py's role matrix); positive_data_acceptance wants a
# 2xx for any schema-valid body, but an unknown question id or an age of -3 fits the schema
# and is rightly a 422 naming the field.
NOT_CHECKED = [ignored_auth, positive_data_acceptance]


@pytest.fixture
def fuzzed_app(database, tmp_path, clock):
    url, schema = database
    # The login limit would stop the staff logins of a long run; nothing here tests it.
    app = make_app(chat_settings(SPOA_CLOCK=clock, DATABASE_URL=url, DATABASE_SCHEMA=schema,
                                 SPOA_CHAT_RATE_LIMIT="100000 per minute"), chat_triage(), tmp_path)
    yield app
    app.extensions["spoa"].store.dispose()


@pytest.fixture
def credentials(fuzzed_app, caller) -> dict:
    """headers and cookies for `caller`: the service token, or a logged-in staff session."""
    if caller == "service":
        return {"headers": {"Authorization": f"Bearer {SERVICE_TOKEN}"}, "cookies": {}}
    client = fuzzed_app.test_client()
    assert login(client, create_user(fuzzed_app, caller)).status_code == 302
    token = csrf_token(client, "/auth/login")
    cookie = client.get_cookie(fuzzed_app.config["SESSION_COOKIE_NAME"])
    return {"headers": {"X-CSRFToken": token}, "cookies": {cookie.key: cookie.value}}


def fuzz(app, credentials: dict) -> list[str]:
    """Every operation, EXAMPLES generated requests each; the failures, one line each."""
    failures = []
    for result in schemathesis.openapi.from_wsgi("/api/openapi.json", app).get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case) -> None:  # noqa: ANN001
            case.call_and_validate(headers=credentials["headers"], cookies=credentials["cookies"],
                                   excluded_checks=NOT_CHECKED)

        try:
            call()
        except Exception as error:  # noqa: BLE001 - every operation's failure is reported together
            failures.append(f"{operation.label}: {str(error).strip()[:1500]}")
    return failures


@pytest.mark.parametrize("caller", ["service", "call_handler", "supervisor"])
def test_every_operation_answers_without_a_5xx_and_as_documented(fuzzed_app, caller, credentials):
    failures = fuzz(fuzzed_app, credentials)
    assert not failures, "\n".join(failures)


# -- what the fuzzing found, pinned -----------------------------------------------------------------

def test_a_nul_character_in_a_call_label_is_a_422_not_a_database_error(fuzzed_app):
    client = fuzzed_app.test_client()
    assert login(client, create_user(fuzzed_app, "call_handler")).status_code == 302
    headers = {"X-CSRFToken": csrf_token(client, "/auth/login")}
    refused = client.post("/console/api/contacts", json={"channel": "phone", "about": "Mrs A\u0000"}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["error"] == "invalid_text"
    accepted = client.post("/console/api/contacts", json={"channel": "phone", "about": "Mrs A"}, headers=headers)
    assert accepted.status_code == 201


def test_a_page_past_the_end_of_the_world_is_a_400_not_a_database_error(fuzzed_app):
    client = fuzzed_app.test_client()
    assert login(client, create_user(fuzzed_app, "supervisor")).status_code == 302
    assert client.get("/api/worklist?page=-1").status_code == 400
    assert client.get("/api/contacts?page=99999999999").status_code == 400
    assert client.get("/api/contacts?page=2").status_code == 200
