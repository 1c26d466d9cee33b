"""Supervisors' page of referral messages that were not delivered (/worklist/outbox), with
the error and a "send again" button; the duty worker's "sent by email" for a team with no
endpoint; and the delivery rows the worklist and contact pages show.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy.orm import Session

from web.bootstrap import services
from web.forms import ActionForm
from web.security import AUDIT_ROLES, WORKLIST_ROLES, current_actor, roles_required
from web.store import outbox

bp = Blueprint("outbox", __name__, url_prefix="/worklist/outbox")


def delivery_rows(session: Session, *, contact_id: str | None = None, limit: int = 20) -> list[dict]:
    """Delivery rows (with the email summary for a team with no endpoint), newest first."""
    messages = outbox.for_contact(session, contact_id) if contact_id else outbox.list_messages(session, limit=limit)
    return [{**outbox.message_dict(m), "summary": m.summary if m.status == "email" else None} for m in messages]


def _render(errors: dict | None = None, status: int = 200):
    with services().store.session() as db:
        dead = [outbox.message_dict(m) for m in outbox.list_messages(db, status="dead")]
        waiting = [outbox.message_dict(m) for m in outbox.list_messages(db, status="pending")]
    return render_template("outbox/dead_letters.html", dead=dead, waiting=waiting, errors=errors or {}), status


@bp.get("/")
@roles_required(*AUDIT_ROLES)
def dead_letters():
    """Dead-lettered referral messages with their errors, and those waiting to be sent."""
    return _render()


@bp.post("/<int:outbox_id>/retry")
@roles_required(*AUDIT_ROLES)
def retry(outbox_id: int):
    """Send a dead-lettered message again (same MessageHeader id)."""
    spoa, actor = services(), current_actor()
    if not ActionForm().validate_on_submit():
        return _render({"form": "The form expired; try again."}, 400)
    now = spoa.now()
    try:
        spoa.store.run(lambda db: outbox.retry(db, outbox_id, actor=actor.name, actor_role=actor.role, now=now))
    except (LookupError, outbox.OutboxError) as error:
        return _render({"form": str(error)}, 409)
    return redirect(url_for("outbox.dead_letters", retried=outbox_id), 303)


@bp.post("/<int:outbox_id>/emailed")
@roles_required(*WORKLIST_ROLES)
def emailed(outbox_id: int):
    """The duty worker sent the email summary (a team with no endpoint): it counts as delivered."""
    spoa, actor = services(), current_actor()
    if ActionForm().validate_on_submit():
        now = spoa.now()
        try:
            spoa.store.run(lambda db: outbox.mark_emailed(db, outbox_id, actor=actor.name, actor_role=actor.role,
                                                          now=now))
        except (LookupError, outbox.OutboxError):
            pass  # already marked (two clicks, two people): the worklist shows where it is
    return redirect(url_for("worklist.queue", _anchor=f"delivery-{outbox_id}"), 303)
