"""The outbox dispatcher (`spoa outbox run`): delivers referral messages to receiving teams.

Each round it claims due messages (web.store.outbox.claim, committed before any network
call), POSTs each Bundle to its team's endpoint as application/fhir+json, and records the
answer: delivered, retried later with exponential backoff, or dead-lettered (spoa.delivery).
Any number of dispatchers can run on one database; none sends a message another has claimed.
The MessageHeader id goes with every attempt (Idempotency-Key and X-Request-ID headers, and
in the Bundle itself), so a receiver that got a message before the answer was lost treats
the retry as the same referral.

Logs name outbox ids, message ids and teams only: never the message's content.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping

import requests

from spoa.delivery import DeliveryPolicy
from web.store import Store, StoreUnavailable, outbox
from web.store.models import OutboxMessage

log = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _diagnostics(response: requests.Response) -> str:
    """The receiver's OperationOutcome, in a line (or the start of its body)."""
    try:
        body = response.json()
        issues = body.get("issue") or []
        text = "; ".join(str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code"))
                         for i in issues if isinstance(i, dict))
    except ValueError:
        text = response.text[:300]
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


class Dispatcher:
    """Delivers due outbox messages; `run_once` for one round, `run` until stopped."""

    def __init__(self, store: Store, policy: DeliveryPolicy, *, clock: Callable[[], datetime] = _utc_now,
                 worker: str | None = None, environ: Mapping[str, str] | None = None, batch: int = 10,
                 http: requests.Session | None = None):
        self.store, self.policy, self.clock, self.batch = store, policy, clock, batch
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.environ = os.environ if environ is None else environ
        self.http = http or requests.Session()
        # A claim outlives the slowest answer, so a live dispatcher never loses its message.
        self.lease = timedelta(seconds=policy.timeout_seconds * 3 + 30)

    def send(self, message: OutboxMessage) -> tuple[int | None, str | None]:
        """POST the message once: (HTTP status or None, what went wrong or None)."""
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, "Idempotency-Key": message.message_id,
                   "X-Request-ID": message.message_id, "X-Correlation-ID": message.message_id}
        secret = self.environ.get(message.auth_env) if message.auth_env else None
        if secret:
            headers["Authorization"] = secret
        try:
            response = self.http.post(message.endpoint, data=json.dumps(message.bundle), headers=headers,
                                      timeout=self.policy.timeout_seconds)
        except requests.Timeout:
            return None, f"no answer within {self.policy.timeout_seconds:g} s"
        except requests.RequestException as error:
            return None, f"could not reach the receiver ({type(error).__name__})"
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, _diagnostics(response)

    def run_once(self) -> int:
        """One round: claim, send, record. Returns how many messages were tried."""
        claimed = self.store.run(lambda db: outbox.claim(db, worker=self.worker, now=self.clock(), lease=self.lease,
                                                          limit=self.batch))
        for message in claimed:
            status_code, error = self.send(message)
            result = self.store.run(lambda db: outbox.record(db, message.id, worker=self.worker, now=self.clock(),
                                                             status_code=status_code, error=error,
                                                             policy=self.policy))
            log.info("outbox %s (message %s, team %s): attempt %d -> %s%s", message.id, message.message_id,
                     message.team_id, message.attempts, result.status,
                     f" ({status_code})" if status_code else "")
        return len(claimed)

    def run(self, *, interval: float = 2.0, stop: threading.Event | None = None) -> None:
        """Deliver until `stop` is set: a busy round is followed at once by the next one."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                busy = self.run_once()
            except StoreUnavailable as error:
                log.warning("outbox: %s", error)
                busy = 0
            except Exception:  # noqa: BLE001 - one bad round (schema not migrated yet, a bug) must not end
                # the dispatcher, nor with it every process honcho started; claims left open expire.
                log.exception("outbox: round failed; trying again in %s s", interval)
                busy = 0
            if not busy:
                stop.wait(interval)
