"""The duty worker's worklist page (/worklist), styled with the NHS design system.

Every decision that refers someone waits here for a person (UK GDPR Article 22): most urgent
first, then the earliest deadline, then the oldest, each with its response target and the time
left. The duty worker accepts an item (the referral is sent) or returns it with a reason
(required). Both are recorded as review rows and in the audit log by web.store.worklist.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from web import audit_queries as q
from web.blueprints.outbox import delivery_rows
from web.bootstrap import services
from web.forms import ActionForm, ReasonForm
from web.referral_message import accept_and_send
from web.security import WORKLIST_ROLES, current_actor, roles_required
from web.store import worklist

bp = Blueprint("worklist", __name__, url_prefix="/worklist")


def _render(errors: dict | None = None, item_id: int | None = None, status: int = 200):
    spoa = services()
    now = spoa.now()
    with spoa.store.session() as db:
        items = q.worklist_items(db, now=now)
        deliveries = delivery_rows(db)
    return render_template("worklist/queue.html", items=items, errors=errors or {}, error_item=item_id,
                           deliveries=deliveries), status


@bp.get("/")
@roles_required(*WORKLIST_ROLES)
def queue():
    """Open referrals and call-backs, most urgent then oldest first, with the time left."""
    return _render()


@bp.post("/<int:item_id>/accept")
@roles_required(*WORKLIST_ROLES)
def accept(item_id: int):
    """Accept an item: the referral is sent (or the call-back made)."""
    spoa, actor = services(), current_actor()
    if not ActionForm().validate_on_submit():
        return _render({"form": "The form expired; try again."}, item_id, 400)
    now = spoa.now()
    try:
        item = spoa.store.run(lambda db: accept_and_send(db, spoa, item_id, actor=actor.name,
                                                         actor_role=actor.role, now=now))
    except worklist.WorklistError as error:
        return _render({"form": str(error)}, item_id, 409)
    return redirect(url_for("worklist.queue", accepted=item.id), 303)


@bp.post("/<int:item_id>/return")
@roles_required(*WORKLIST_ROLES)
def return_item(item_id: int):
    """Return an item to the supervisor's attention, with a reason (required)."""
    spoa, actor, form = services(), current_actor(), ReasonForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return _render({"form": "The form expired; try again."}, item_id, 400)
        return _render({"reason": "Give a reason for returning this item."}, item_id, 400)
    now = spoa.now()
    try:
        item = spoa.store.run(lambda db: worklist.return_item(db, item_id, actor=actor.name,
                                                              actor_role=actor.role, now=now,
                                                              reason=form.reason.data))
    except worklist.WorklistError as error:
        return _render({"form": str(error)}, item_id, 409)
    return redirect(url_for("worklist.queue", returned=item.id), 303)
