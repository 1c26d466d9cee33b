"""The supervisor's audit pages (/audit), styled with the NHS design system.

A supervisor (or admin) finds contacts with filters, opens one to see what was known, what was
decided, by which rules and why, records an override with a reason, exports the filtered list
as CSV, looks at charts, replays a protocol change, and verifies the audit log. Viewing a
contact, overriding, exporting, replaying and verifying are all written to the audit log.

Each view parses the request, calls one function in web.audit_queries (or the store), and
renders. Pages load their JavaScript from static files: the Content-Security-Policy allows
no inline script or style.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from wtforms import SelectField
from wtforms.validators import DataRequired

from web import audit_queries as q
from web.blueprints.outbox import delivery_rows
from web.bootstrap import services
from web import oversight
from web.forms import AgreeForm, OverrideForm
from web.oversight import share
from web.security import AUDIT_ROLES, OVERRIDE_ROLES, current_actor, roles_required
from web.store import contacts

bp = Blueprint("audit", __name__, url_prefix="/audit")


class ProtocolOverrideForm(OverrideForm):
    """The override form: a route and (optionally) a pathway from the protocol, and a reason."""

    route = SelectField("New route", choices=[("", "Choose a route")] + list(q.ROUTE_LABELS.items()),
                        validators=[DataRequired(message="Choose the new route.")])
    pathway = SelectField("New pathway (optional)",
                          choices=[("", "No pathway")] + list(q.PATHWAY_LABELS.items()), default="")


def _localities() -> dict[str, str]:
    return {key: value["name"] for key, value in services().config.localities.items()}


def _timezone() -> str:
    return services().config.timezone


def _list_query() -> q.ListQuery:
    return q.parse_list_query(request.args, localities=_localities())


@bp.app_template_global("audit_labels")
def audit_labels() -> dict:
    """Labels and tag colours the staff templates share."""
    return {"routes": q.ROUTE_LABELS, "pathways": q.PATHWAY_LABELS, "safeguarding": q.SAFEGUARDING_LABELS,
            "route_tags": q.ROUTE_TAGS, "safeguarding_tags": q.SAFEGUARDING_TAGS, "sources": q.SOURCE_LABELS,
            "channels": q.CHANNEL_CHOICES, "flags": q.FLAG_CHOICES, "actions": q.ACTION_LABELS}


@bp.app_template_filter("staff_time")
def staff_time(value) -> str:  # noqa: ANN001
    """A stored time in the service's time zone."""
    return q.local_time(value, _timezone())


@bp.app_template_filter("plain")
def plain(value) -> str:  # noqa: ANN001
    """A fact value or an id in plain words."""
    return q.value_words(value)


@bp.app_template_filter("share")
def share_filter(part: int, whole: int) -> str:
    """"3 of 12 (25%)", or "2 of 3" when there are too few for a percentage."""
    return share(part, whole)


@bp.app_template_filter("target_words")
def target_filter(value) -> str:  # noqa: ANN001
    """An ISO 8601 response target in words."""
    return q.target_words(value)


@bp.get("/")
@bp.get("/contacts")
@roles_required(*AUDIT_ROLES)
def contact_list():
    """Contacts, newest first, filtered (dates, route, pathway, safeguarding, review, override,
    locality, channel) and paged; a bad filter is named in an error summary and ignored."""
    query = _list_query()
    with services().store.session() as db:
        page = q.contact_list(db, query)
    status = 400 if query.errors else 200
    return render_template("audit/list.html", query=query, page=page, active=q.active_filters(query),
                           localities=_localities()), status


@bp.get("/signposted")
@roles_required(*AUDIT_ROLES)
def signposted():
    """Out-of-scope contacts (signposted elsewhere), with the reason and the place as given."""
    number = request.args.get("page", "1")
    with services().store.session() as db:
        page = q.signposted(db, services().config, page=int(number) if number.isdigit() else 1)
    return render_template("audit/signposted.html", page=page, localities=_localities())


@bp.get("/contacts.csv")
@roles_required(*AUDIT_ROLES)
def export_csv():
    """The filtered list as CSV (no facts or free text); the export is written to the audit log."""
    spoa, query, actor = services(), _list_query(), current_actor()
    now = spoa.now()

    def work(db):  # noqa: ANN001, ANN202
        text, rows = q.export_csv(db, query, now=now)
        q.record_export(db, actor=actor.name, actor_role=actor.role, now=now, rows=rows,
                        filters=q.active_filters(query))
        return text

    text = spoa.store.run(work)
    filename = f"contacts-{now.strftime('%Y%m%d-%H%M')}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _render_contact(contact_id: str, form: ProtocolOverrideForm, status: int = 200,
                    agree_form: AgreeForm | None = None):
    spoa, actor = services(), current_actor()
    now = spoa.now()
    record = spoa.store.run(lambda db: q.view_contact(db, contact_id, actor=actor.name, actor_role=actor.role,
                                                      now=now))
    with spoa.store.session() as db:
        deliveries = delivery_rows(db, contact_id=record["id"])
    reviewed = q.review_banner(record, request.args.get("reviewed"))
    return render_template("audit/contact_page.html", record=record, form=form, agree_form=agree_form or AgreeForm(),
                           reviewed=reviewed, can_review=actor.role in OVERRIDE_ROLES, localities=_localities(),
                           deliveries=deliveries), status


@bp.get("/contacts/<contact_id>")
@roles_required(*AUDIT_ROLES)
def contact_page(contact_id: str):
    """One contact: the facts timeline, each decision with its trace in plain words, the reviews,
    and the override form. The view is written to the audit log."""
    return _render_contact(contact_id, ProtocolOverrideForm())


@bp.post("/contacts/<contact_id>/override")
@roles_required(*OVERRIDE_ROLES)
def override(contact_id: str):
    """Record an override (a new review row, never an edit): route from the protocol, reason required."""
    spoa, form = services(), ProtocolOverrideForm()
    if not form.validate_on_submit():
        return _render_contact(contact_id, form, 400)
    actor, now = current_actor(), spoa.now()
    row = spoa.store.run(lambda db: contacts.review(
        db, contact_id, action="override", actor=actor.name, actor_role=actor.role, now=now,
        route=form.route.data, pathway=form.pathway.data or None, reason=form.reason.data,
        targets=spoa.config.data.get("response_targets")))
    return redirect(url_for("audit.contact_page", contact_id=row.contact_id, reviewed=row.id), 303)


@bp.post("/contacts/<contact_id>/agree")
@roles_required(*OVERRIDE_ROLES)
def agree(contact_id: str):
    """"Reviewed, agree": a confirm review beside the decision (a new row, never an edit); like an
    override it clears "review required"."""
    spoa, form = services(), AgreeForm()
    if not form.validate_on_submit():
        return _render_contact(contact_id, ProtocolOverrideForm(formdata=None), 400, agree_form=form)
    actor, now = current_actor(), spoa.now()
    row = spoa.store.run(lambda db: contacts.review(
        db, contact_id, action="confirm", actor=actor.name, actor_role=actor.role, now=now,
        reason=form.reason.data))
    return redirect(url_for("audit.contact_page", contact_id=row.contact_id, reviewed=row.id), 303)


@bp.get("/dashboard")
@roles_required(*AUDIT_ROLES)
def dashboard():
    """The clinical and safeguarding lead's view of a period (the last 30 days unless chosen):
    contacts and referrals by route and locality, override rate by rule, overdue referrals by
    team, safeguarding, signposted contacts, returned items and repeat contacts."""
    spoa = services()
    now = spoa.now()
    query = q.parse_list_query(request.args)
    period = oversight.period(query.filters.date_from, query.filters.date_to,
                              today=q.local_day(now, _timezone()))
    with spoa.store.session() as db:
        data = oversight.dashboard(db, contacts.ContactFilter(date_from=period[0], date_to=period[1]), now=now,
                                   localities=_localities())
    return render_template("audit/dashboard.html", query=query, period=period, data=data), \
        400 if query.errors else 200


@bp.get("/charts")
@roles_required(*AUDIT_ROLES)
def charts():
    """Charts of routes per day, safeguarding levels and review and override rates (the data
    comes from charts.json; the same numbers are in tables on the page)."""
    query = _list_query()
    with services().store.session() as db:
        data = q.charts(db, query, timezone=_timezone())
    return render_template("audit/charts.html", query=query, data=data, active=q.active_filters(query),
                           localities=_localities()), 400 if query.errors else 200


@bp.get("/charts.json")
@roles_required(*AUDIT_ROLES)
def charts_json():
    """The chart data as JSON, for static/js/charts.js."""
    query = _list_query()
    with services().store.session() as db:
        data = q.charts(db, query, timezone=_timezone())
    return jsonify(data)


@bp.get("/log")
@roles_required(*AUDIT_ROLES)
def log():
    """Recompute the audit log's hash chain: OK, or the first broken row (the check is logged
    too); then the log itself, paged and filtered by actor, action and date."""
    spoa, actor = services(), current_actor()
    now = spoa.now()
    with spoa.store.session() as db:
        result, broken = q.verify_log(db)
    spoa.store.run(lambda db: q.record_verify(db, result, actor=actor.name, actor_role=actor.role, now=now))
    query = q.parse_log_query(request.args)
    with spoa.store.session() as db:
        entries = q.log_page(db, query, timezone=_timezone())
    return render_template("audit/log.html", result=result, broken=broken, entries=entries, query=query), \
        400 if query.errors else 200


@bp.get("/replay")
@roles_required(*AUDIT_ROLES)
def replay():
    """Replay stored contacts with the current or a candidate rule set: how many would change
    route, from what to what, and which contacts (nothing is written but the audit row)."""
    spoa, actor = services(), current_actor()
    candidates = q.candidate_rule_sets(current_app.config.get("SPOA_REPLAY_RULES"), spoa.config)
    query = q.parse_replay_query(request.args, candidates)
    report = None
    if query.run and not query.errors:
        now = spoa.now()
        try:
            with spoa.store.session() as db:
                report = q.run_replay(db, spoa.triage, query, candidates)
        except (OSError, ValueError) as error:  # a candidate folder that is missing or fails its checks
            query.errors["rules"] = f"The rule set “{query.rules}” could not be loaded: {error}"
        else:
            spoa.store.run(lambda db: q.record_replay(db, report, actor=actor.name, actor_role=actor.role,
                                                      now=now))
    rule_options = [("", "Current rules")] + [(name, name) for name in candidates]
    return render_template("audit/replay.html", query=query, report=report, rule_options=rule_options,
                           current_version=spoa.triage.ruleset.version), \
        400 if query.errors else 200
