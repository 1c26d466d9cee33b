"""The transactional outbox: an accepted referral's message reaches the receiving team once,
through a receiver that is down, failing or refusing, and with several dispatchers at once."""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import replace

import pytest
import requests

from browser_helpers import serve
from conftest import csrf_token, make_app
from fhir_helpers import accepted_referral, example, triage_sending_to
from spoa.config import config_from_mapping
from spoa.delivery import DeliveryPolicy
from web.outbox_dispatcher import Dispatcher
from web.receiver import ReceiverState, create_receiver
from web.store import Store, contacts, outbox
from web.store.models import WorklistItem

POLICY = DeliveryPolicy(max_attempts=4, first_retry_seconds=30, max_backoff_seconds=600, timeout_seconds=2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def receiver_on(port: int, state: ReceiverState):
    """The test receiving team, served on `port` until the block ends."""
    return serve(create_receiver(state), port)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def sending_app(triage, tmp_path, clock, port):
    """The app on SQLite, its teams' endpoints at a receiver on `port` (started by each test)."""
    app = make_app({"SPOA_CLOCK": clock, "SPOA_TRIAGE": triage_sending_to(triage, f"http://127.0.0.1:{port}")},
                   triage, tmp_path)
    yield app
    app.extensions["spoa"].store.dispose()


def dispatcher(app, clock, **kwargs) -> Dispatcher:
    return Dispatcher(app.extensions["spoa"].store, kwargs.pop("policy", POLICY), clock=clock, **kwargs)


def reload(app, message):
    with app.extensions["spoa"].store.session() as db:
        return db.get(type(message), message.id)


def test_a_receiver_that_is_down_then_back_gets_the_referral_once(sending_app, clock, port):
    _, message = accepted_referral(sending_app, "fall-long-lie")
    sender = dispatcher(sending_app, clock)
    assert sender.run_once() == 1                      # nobody listening
    down = reload(sending_app, message)
    assert down.status == "pending" and down.attempts == 1 and "could not reach" in down.last_error
    assert sender.run_once() == 0                      # not due again until the backoff has passed
    state = ReceiverState()
    with receiver_on(port, state):
        clock.advance(seconds=31)
        assert sender.run_once() == 1
        assert sender.run_once() == 0
    delivered = reload(sending_app, message)
    assert delivered.status == "delivered" and delivered.attempts == 2
    assert state.deliveries == {message.message_id: 1} and list(state.processed) == [message.message_id]


def test_a_receiver_answering_5xx_then_200_gets_the_referral_once(sending_app, clock, port):
    _, message = accepted_referral(sending_app, "suicidal-with-plan")
    state = ReceiverState(mode="fail", remaining=2, fail_status=503)
    sender = dispatcher(sending_app, clock)
    with receiver_on(port, state):
        sender.run_once()
        first = reload(sending_app, message)
        assert first.status == "pending" and first.last_status_code == 503
        assert first.next_attempt_at == clock.now + POLICY.backoff(1)
        clock.advance(seconds=30)
        sender.run_once()
        assert reload(sending_app, message).next_attempt_at == clock.now + POLICY.backoff(2)  # doubled: 60 s
        clock.advance(seconds=60)
        sender.run_once()
    assert reload(sending_app, message).status == "delivered"
    assert list(state.processed) == [message.message_id]


@pytest.mark.hazard("HAZ-006")
def test_a_retry_after_a_lost_answer_is_not_a_second_referral(sending_app, clock, port):
    """The receiver processed the message but its answer never came (silence): the retry
    carries the same MessageHeader id and the receiver does not process it again."""
    _, message = accepted_referral(sending_app, "fall-long-lie")
    state = ReceiverState(mode="silent", remaining=1, delay=3)
    sender = dispatcher(sending_app, clock)
    with receiver_on(port, state):
        sender.run_once()                              # times out after 2 s; the receiver carries on
        assert "no answer within 2 s" in reload(sending_app, message).last_error
        clock.advance(seconds=31)
        sender.run_once()
        assert reload(sending_app, message).status == "delivered"
        assert requests.get(f"http://127.0.0.1:{port}/_received", timeout=5).json()["processed"] == [
            {"message_id": message.message_id, "team": "ucr_west", "deliveries": 2}]


def test_an_invalid_message_is_dead_lettered_at_once_and_shown_to_supervisors(sending_app, clock, port,
                                                                              client_as):
    _, message = accepted_referral(sending_app, "fall-long-lie")
    store = sending_app.extensions["spoa"].store
    # A message the receiver refuses as invalid (here: its Patient lost on the way).
    store.run(lambda db: setattr(db.get(type(message), message.id), "bundle", {
        **message.bundle, "entry": [e for e in message.bundle["entry"] if e["resource"]["resourceType"] != "Patient"]}))
    with receiver_on(port, ReceiverState()):
        dispatcher(sending_app, clock).run_once()
    dead = reload(sending_app, message)
    assert dead.status == "dead" and dead.attempts == 1 and dead.last_status_code == 422
    assert "Patient: 0 in the Bundle" in dead.last_error
    supervisor = client_as("supervisor", sending_app)
    page = supervisor.get("/worklist/outbox/")
    assert page.status_code == 200 and "Patient: 0 in the Bundle" in page.get_data(as_text=True)
    again = supervisor.post(f"/worklist/outbox/{message.id}/retry",
                            data={"csrf_token": csrf_token(supervisor, "/worklist/outbox/")})
    assert again.status_code == 303 and reload(sending_app, message).status == "pending"


def test_a_message_the_last_attempt_fails_is_dead_lettered_and_a_supervisor_can_retry_it(sending_app, clock, port,
                                                                                      client_as, staff_json):
    _, message = accepted_referral(sending_app, "fall-long-lie")
    sender = dispatcher(sending_app, clock, policy=replace(POLICY, max_attempts=2))
    sender.run_once()
    clock.advance(seconds=31)
    sender.run_once()
    assert reload(sending_app, message).status == "dead"
    supervisor = client_as("supervisor", sending_app)
    response = supervisor.post(f"/api/outbox/{message.id}/retry", headers=staff_json(supervisor))
    assert response.status_code == 200 and response.get_json()["status"] == "pending"
    state = ReceiverState()
    with receiver_on(port, state):
        sender.run_once()
    assert reload(sending_app, message).status == "delivered" and state.deliveries == {message.message_id: 1}


def test_a_duty_worker_cannot_retry_a_dead_letter(sending_app, clock, client_as, staff_json):
    _, message = accepted_referral(sending_app, "fall-long-lie")
    worker = client_as("duty_worker", sending_app)
    assert worker.post(f"/api/outbox/{message.id}/retry", headers=staff_json(worker)).status_code == 403


@pytest.mark.hazard("HAZ-006")
def test_two_dispatchers_on_one_database_send_each_message_once(backend, database, triage, tmp_path, clock):
    url, schema = database  # SQLite: a claim by conditional UPDATE; PostgreSQL: FOR UPDATE SKIP LOCKED too
    state = ReceiverState(latency=0.05)  # a busy team: neither dispatcher can finish alone before the other starts
    with receiver_on(free_port(), state) as base:
        app = make_app({"SPOA_CLOCK": clock, "DATABASE_URL": url, "DATABASE_SCHEMA": schema,
                        "SPOA_TRIAGE": triage_sending_to(triage, base)}, triage, tmp_path)
        try:
            messages = [accepted_referral(app, name)[1] for name in ("fall-long-lie", "suicidal-with-plan",
                                                                      "multimorbid-high-risk", "carer-eligible",
                                                                      "financial-abuse-dementia") * 4]
            stores = [Store(url, schema=schema, pool_size=2) for _ in range(2)]
            senders = [Dispatcher(s, POLICY, clock=clock, batch=2, worker=f"d{i}") for i, s in enumerate(stores)]
            tried = {sender.worker: 0 for sender in senders}

            def deliver(sender: Dispatcher) -> None:
                for _ in range(20):
                    tried[sender.worker] += sender.run_once()

            threads = [threading.Thread(target=deliver, args=(sender,)) for sender in senders]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            for s in stores:
                s.dispose()
            with app.extensions["spoa"].store.session() as db:
                statuses = {m.message_id: m.status for m in outbox.list_messages(db)}
        finally:
            app.extensions["spoa"].store.dispose()
    assert set(statuses.values()) == {"delivered"} and len(statuses) == len(messages) == 20
    assert state.deliveries == {key: 1 for key in statuses}      # each message POSTed exactly once
    assert sum(tried.values()) == 20 and min(tried.values()) > 0, tried  # both dispatchers took a share


def test_a_team_that_wants_a_token_gets_the_one_from_the_environment(sending_app, clock, port):
    _, message = accepted_referral(sending_app, "fall-long-lie")
    assert message.auth_env == "SPOA_TEAM_UCR_WEST_AUTH"       # the name is stored, never the secret
    state = ReceiverState(token="Bearer team-secret")
    with receiver_on(port, state):
        dispatcher(sending_app, clock, environ={"SPOA_TEAM_UCR_WEST_AUTH": "Bearer team-secret"}).run_once()
    assert reload(sending_app, message).status == "delivered" and list(state.processed) == [message.message_id]


def test_a_team_that_wants_a_token_refuses_a_message_sent_without_it(sending_app, clock, port):
    _, message = accepted_referral(sending_app, "fall-long-lie")
    state = ReceiverState(token="Bearer team-secret")
    with receiver_on(port, state):
        dispatcher(sending_app, clock, environ={}).run_once()
    refused = reload(sending_app, message)
    assert refused.status == "dead" and refused.last_status_code == 401 and state.processed == {}
    assert "Authorization" in refused.last_error


def test_an_accept_whose_message_cannot_be_written_is_not_accepted(triage, tmp_path, clock, client_as, staff_json):
    """The message is written in the accept's transaction: no team for it, no accept either."""
    nowhere = json.loads(json.dumps(dict(triage.config.data)))
    nowhere["referrals"]["teams"] = []
    app = make_app({"SPOA_CLOCK": clock, "SPOA_TRIAGE": replace(triage, config=config_from_mapping(nowhere))},
                   triage, tmp_path)
    spoa = app.extensions["spoa"]
    stored = spoa.store.run(lambda db: contacts.create_contact(db, spoa.triage, example("fall-long-lie")["contact"],
                                                               now=clock.now))
    duty = client_as("duty_worker", app)
    response = duty.post(f"/api/worklist/{stored.worklist_item.id}/accept", json={}, headers=staff_json(duty))
    assert response.status_code == 409 and "no receiving team" in response.get_json()["message"]
    with spoa.store.session() as db:
        assert db.get(WorklistItem, stored.worklist_item.id).status == "open"
        assert outbox.for_contact(db, stored.contact.id) == []
    spoa.store.dispose()


def test_the_dispatcher_keeps_going_after_a_round_that_fails(tmp_path):
    """Started before the web app has migrated the database: it waits instead of exiting."""
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables yet
    stop = threading.Event()
    sender = Dispatcher(store, POLICY)
    rounds = []
    original = sender.run_once

    def counted() -> int:
        rounds.append(1)
        if len(rounds) == 3:
            stop.set()
        return original()
    sender.run_once = counted
    sender.run(interval=0.01, stop=stop)
    assert len(rounds) == 3
    store.dispose()
