"""The duty worker's worklist (/worklist): referrals and call-backs, most urgent first.

Minimal page for now; the JSON is at /api/worklist. Accept sends the referral; return needs
a reason. Both are recorded as reviews and in the audit log (web.store.worklist).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from web.bootstrap import services
from web.forms import ActionForm, ReasonForm
from web.security import WORKLIST_ROLES, current_actor, roles_required
from web.store import worklist

bp = Blueprint("worklist", __name__, url_prefix="/worklist")


@bp.get("/")
@roles_required(*WORKLIST_ROLES)
def index():
    """Open items, most urgent then oldest first, with the time left to each target."""
    spoa = services()
    now = spoa.now()
    with spoa.store.session() as db:
        items = [worklist.item_dict(item, now) for item in worklist.list_items(db)]
    return render_template("worklist/index.html", items=items, accept_form=ActionForm(), return_form=ReasonForm())


@bp.post("/<int:item_id>/accept")
@roles_required(*WORKLIST_ROLES)
def accept(item_id: int):
    """Accept an item (the referral is sent)."""
    spoa = services()
    if ActionForm().validate_on_submit():
        actor, now = current_actor(), spoa.now()
        spoa.store.run(lambda db: worklist.accept(db, item_id, actor=actor.name, actor_role=actor.role, now=now))
        flash(f"Item {item_id} accepted.", "info")
    return redirect(url_for("worklist.index"), 303)


@bp.post("/<int:item_id>/return")
@roles_required(*WORKLIST_ROLES)
def return_item(item_id: int):
    """Return an item with a reason."""
    spoa = services()
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give a reason to return an item.", "error")
        return redirect(url_for("worklist.index"), 303)
    actor, now = current_actor(), spoa.now()
    spoa.store.run(lambda db: worklist.return_item(db, item_id, actor=actor.name, actor_role=actor.role, now=now,
                                                   reason=form.reason.data))
    flash(f"Item {item_id} returned.", "info")
    return redirect(url_for("worklist.index"), 303)
