"""Staff login and logout (sessions, Argon2 hashes, rate-limited attempts, audit-logged)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from web.bootstrap import services
from web.forms import ActionForm, LoginForm
from web.security import Staff
from web.store import audit, users

bp = Blueprint("auth", __name__)

HOME_ENDPOINTS = {
    "supervisor": "audit.contact_list",
    "admin": "audit.contact_list",
    "duty_worker": "worklist.queue",
    "call_handler": "console.index",
}


@bp.app_template_global("home_url")
def home_url(role: str | None) -> str:
    """Where a member of staff lands after logging in (and where the header's logo goes)."""
    endpoint = HOME_ENDPOINTS.get(role or "")
    if endpoint and endpoint in current_app.view_functions:
        return url_for(endpoint)
    return url_for("auth.staff_home")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host) may be redirected to after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
def home():
    """The front page: the resident chat when it exists, else the staff pages."""
    if "chat.index" in current_app.view_functions:
        return redirect(url_for("chat.index"))
    if current_user.is_authenticated:
        return redirect(home_url(current_user.role))
    return redirect(url_for("auth.login"))


@bp.get("/staff")
@login_required
def staff_home():
    """A plain landing page for staff whose own pages aren't there yet."""
    return render_template("staff_home.html")


@bp.route("/auth/login", methods=["GET", "POST"])
def login():
    """Log in with a username and password (rate-limited per address)."""
    form = LoginForm()
    if form.validate_on_submit():
        spoa = services()
        now = spoa.now()

        def attempt(db):  # noqa: ANN001, ANN202
            user = users.authenticate(db, form.username.data, form.password.data)
            if user is None:
                audit.append(db, actor=(form.username.data or "")[:64].strip().lower() or "unknown",
                             action="auth.login_failed", at=now)
                return None
            audit.append(db, actor=user.username, actor_role=user.role, action="auth.login", at=now)
            return Staff(id=user.id, username=user.username, role=user.role)

        staff = spoa.store.run(attempt)
        if staff is None:
            errors = {"username": "The username or password is wrong."}
            return render_template("login.html", form=form, errors=errors), 401
        session.clear()  # a fresh session on login (no fixation)
        session.permanent = True
        login_user(staff)
        return redirect(_safe_next(request.args.get("next")) or home_url(staff.role))
    errors = {name: messages[0] for name, messages in form.errors.items() if name in ("username", "password")}
    status = 400 if request.method == "POST" else 200
    timed_out = request.args.get("timed_out") == "1"
    return render_template("login.html", form=form, errors=errors, timed_out=timed_out), status


@bp.post("/auth/logout")
@login_required
def logout():
    """Log out (a POST with the CSRF token, so another site can't log you out)."""
    form = ActionForm()
    if form.validate_on_submit():
        spoa = services()
        actor, role = current_user.username, current_user.role
        spoa.store.run(lambda db: audit.append(db, actor=actor, actor_role=role, action="auth.logout",
                                               at=spoa.now()))
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"))
