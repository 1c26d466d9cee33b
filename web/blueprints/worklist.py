"""The duty worker's worklist (/worklist), one referral in full, and the supervisors' queue.

Every decision that refers someone waits here for a person (UK GDPR Article 22): most urgent
first, then the earliest deadline, then the oldest, each with its response target (working
days for day targets) and the time left. The list pages, filters (route, locality, overdue,
mine) and refreshes itself (static/js/worklist.js fetches the list's fragment and swaps it in
without moving the page). The duty worker opens a referral, accepts it (it becomes theirs and
the referral is sent), returns it with a reason (it goes to the supervisors' queue) or
completes it with an outcome. Supervisors see the returned referrals and every open call.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from web import referral_view
from web.blueprints.api import worklist_filter_from_args
from web.blueprints.referrals import supervisor_queue
from web.blueprints.outbox import delivery_rows
from web.bootstrap import services
from web.errors import ApiError
from web.forms import ActionForm, OutcomeForm, ReasonForm
from web.referral_message import accept_and_send
from web.security import OVERRIDE_ROLES, WORKLIST_ACT_ROLES, WORKLIST_ROLES, current_actor, roles_required
from web.store import calls, contacts, worklist

bp = Blueprint("worklist", __name__, url_prefix="/worklist")
PER_PAGE = 25
MISSING = {"reason": "Give a reason for returning this item.", "outcome": "Say what the outcome was."}


def _list_args() -> tuple[worklist.WorklistFilter, int, dict]:
    try:
        filters = worklist_filter_from_args()
        page = min(max(1, int(request.args.get("page", 1))), 1_000_000)  # the database's offset stays small
    except (ApiError, ValueError):
        abort(400, description="The worklist's filters are not valid; clear them and try again.")
    keep = {key: value for key, value in request.args.items() if key in ("view", "route", "locality", "overdue", "kind")
            and value}
    return filters, page, keep


def _render(errors: dict | None = None, item_id: int | None = None, status: int = 200):
    spoa = services()
    now = spoa.now()
    filters, page, keep = _list_args()
    with spoa.store.session() as db:
        found, total = worklist.find_items(db, filters, now=now, page=page, per_page=PER_PAGE)
        items = [referral_view.row(db, item, now) for item in found]
        counts = worklist.counts(db, now=now, actor=filters.actor)
        deliveries = delivery_rows(db)
    pages = max(1, -(-total // PER_PAGE))
    template = "worklist/_list.html" if request.args.get("fragment") else "worklist/queue.html"
    return render_template(template, items=items, total=total, counts=counts, page=page, pages=pages,
                           per_page=PER_PAGE, filters=filters, keep=keep, localities=spoa.config.localities,
                           errors=errors or {}, error_item=item_id, deliveries=deliveries), status


@bp.get("/")
@roles_required(*WORKLIST_ROLES)
def queue():
    """Referrals and call-backs waiting, most urgent then oldest first, with the time left."""
    return _render()


def _back(item_id: int, **flags):  # noqa: ANN003, ANN202
    target = request.form.get("next")
    if target == "referral":
        return redirect(url_for("worklist.referral", item_id=item_id, **flags), 303)
    return redirect(url_for("worklist.queue", **flags), 303)


def _act(item_id: int, action, form=None, field: str = "reason", flag: str = "done"):  # noqa: ANN001, ANN202
    """Run a worklist action from a form; errors go back to the page the form was on."""
    spoa, actor = services(), current_actor()
    form = form or ActionForm()
    on_referral = request.form.get("next") == "referral"
    show = (lambda errors, status: _referral_page(item_id, errors, status)) if on_referral else (
        lambda errors, status: _render(errors, item_id, status))
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return show({"form": "The form expired; try again."}, 400)
        return show({field: MISSING.get(field, "Check the form.")}, 400)
    now = spoa.now()
    try:
        spoa.store.run(lambda db: action(db, actor=actor.name, actor_role=actor.role, now=now))
    except worklist.WorklistError as error:
        return show({"form": str(error)}, error.status or 409)
    return _back(item_id, **{flag: item_id})


@bp.post("/<int:item_id>/accept")
@roles_required(*WORKLIST_ACT_ROLES)
def accept(item_id: int):
    """Accept an item: the referral is sent and the item becomes yours (or the call-back)."""
    # The referral message goes into the outbox in the same transaction (web/referral_message.py).
    return _act(item_id, lambda db, **who: accept_and_send(db, services(), item_id, **who), flag="accepted")


@bp.post("/<int:item_id>/return")
@roles_required(*WORKLIST_ACT_ROLES)
def return_item(item_id: int):
    """Return an item to the supervisors' queue, with a reason (required)."""
    form = ReasonForm()
    return _act(item_id, lambda db, **who: worklist.return_item(db, item_id, reason=form.reason.data, **who),
                form, "reason", "returned")


@bp.post("/<int:item_id>/complete")
@roles_required(*WORKLIST_ACT_ROLES)
def complete(item_id: int):
    """Complete an accepted item with its outcome (required)."""
    form = OutcomeForm()
    return _act(item_id, lambda db, **who: worklist.complete(db, item_id, outcome=form.outcome.data, **who),
                form, "outcome", "completed")


def _referral_page(item_id: int, errors: dict | None = None, status: int = 200):
    spoa, actor = services(), current_actor()
    now = spoa.now()

    view = spoa.store.run(lambda db: referral_view.read_referral(db, item_id, actor=actor, now=now))
    with spoa.store.session() as db:
        deliveries = delivery_rows(db, contact_id=view["item"]["contact_id"])
    return render_template("worklist/referral.html", r=view, errors=errors or {}, deliveries=deliveries,
                           can_act=actor.role in WORKLIST_ACT_ROLES, me=actor.name, role=actor.role), status


@bp.get("/<int:item_id>")
@roles_required(*WORKLIST_ROLES)
def referral(item_id: int):
    """One referral in full: the person, their words, the facts with who gave them, the
    decision with reasons and sources, what is still missing, safeguarding and services."""
    return _referral_page(item_id)


# -- supervisors -----------------------------------------------------------------------------

@bp.get("/supervisors")
@roles_required(*OVERRIDE_ROLES)
def supervisors():
    """Returned referrals, and every open call: those decided to a referral and left open
    past the setting first (they never reach the worklist until someone closes them)."""
    spoa = services()
    now = spoa.now()
    with spoa.store.session() as db:
        data = supervisor_queue(db, now)
    return render_template("worklist/supervisors.html", q=data, errors={})


def _supervise(action, flag: str):  # noqa: ANN001, ANN202
    spoa, actor = services(), current_actor()
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; go back and try again.")
    now = spoa.now()
    contact_id = spoa.store.run(lambda db: action(db, actor=actor.name, actor_role=actor.role, now=now))
    return redirect(url_for("worklist.supervisors", **{flag: contact_id}), 303)


@bp.post("/supervisors/<contact_id>/redecide")
@roles_required(*OVERRIDE_ROLES)
def redecide(contact_id: str):
    """Decide a returned referral's contact again: it comes back to the worklist if it still refers."""
    return _supervise(lambda db, **who: contacts.redecide(db, services().triage, contact_id, **who).contact.id,
                      "redecided")


@bp.post("/supervisors/<contact_id>/take-over")
@roles_required(*OVERRIDE_ROLES)
def take_over(contact_id: str):
    """Take over an open call: it becomes the supervisor's in the console."""
    return _supervise(lambda db, **who: calls.take_over(db, contact_id, **who).contact_id, "taken")


@bp.post("/supervisors/<contact_id>/dropped")
@roles_required(*OVERRIDE_ROLES)
def dropped(contact_id: str):
    """Close an open call as "call ended before triage finished": a call-back goes on the worklist."""
    return _supervise(lambda db, **who: calls.close_dropped(db, contact_id, **who).contact_id, "dropped")
