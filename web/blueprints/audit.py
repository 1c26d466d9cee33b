"""Supervisors' audit pages (/audit): contacts, what was decided and why, overrides, the log.

Minimal pages for now (list, contact, override, verify); the styled pages, charts and CSV
export build on the same store functions (web.store.contacts.list_contacts, contact_record,
review; web.store.audit.verify; web.store.replay.replay).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web.blueprints.api import contact_filter_from_args
from web.bootstrap import services
from web.forms import OverrideForm
from web.security import AUDIT_ROLES, current_actor, roles_required
from web.store import audit, contacts

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@roles_required(*AUDIT_ROLES)
def index():
    """Contacts, newest first, with the list filters from the query string."""
    spoa = services()
    filters = contact_filter_from_args()
    page = max(1, request.args.get("page", 1, type=int))
    with spoa.store.session() as db:
        rows, total = contacts.list_contacts(db, filters, page=page, per_page=50)
    return render_template("audit/index.html", contacts=rows, total=total, page=page, filters=filters)


@bp.get("/contacts/<contact_id>")
@roles_required(*AUDIT_ROLES)
def contact(contact_id: str):
    """One contact: facts timeline, each decision with its fired rules, reviews (audit-logged)."""
    spoa = services()
    actor, now = current_actor(), spoa.now()

    def read(db):  # noqa: ANN001, ANN202
        record = contacts.contact_record(db, contact_id, now=now)
        audit.append(db, actor=actor.name, actor_role=actor.role, action="contact.view", target=record["id"],
                     details={"via": "audit"}, at=now)
        return record

    record = spoa.store.run(read)
    return render_template("audit/contact.html", record=record, form=OverrideForm())


@bp.post("/contacts/<contact_id>/override")
@roles_required(*AUDIT_ROLES)
def override(contact_id: str):
    """Record an override: a new route and a reason (required)."""
    spoa = services()
    form = OverrideForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("audit.contact", contact_id=contact_id), 303)
    actor, now = current_actor(), spoa.now()
    spoa.store.run(lambda db: contacts.review(db, contact_id, action="override", actor=actor.name,
                                              actor_role=actor.role, now=now, route=form.route.data,
                                              pathway=form.pathway.data or None, reason=form.reason.data))
    flash("Override recorded.", "info")
    return redirect(url_for("audit.contact", contact_id=contact_id), 303)


@bp.get("/verify")
@roles_required(*AUDIT_ROLES)
def verify():
    """Recompute the audit log's hash chain and show the result."""
    spoa = services()
    actor, now = current_actor(), spoa.now()
    with spoa.store.session() as db:
        result = audit.verify(db)
    spoa.store.run(lambda db: audit.append(db, actor=actor.name, actor_role=actor.role, action="audit.verify",
                                           details={"ok": result.ok, "rows": result.rows_checked}, at=now))
    return render_template("audit/verify.html", result=result)
