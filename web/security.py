"""Who may do what: staff sessions, the service token, roles, CSRF, rate limits, headers.

- Staff log in with a session (Flask-Login); sessions end after 30 idle minutes.
- The dialogue's action server calls the JSON API with `Authorization: Bearer <token>`, the
  token from the environment (SPOA_SERVICE_TOKEN).
- Every form carries a CSRF token (Flask-WTF); a JSON call made with a staff session must
  send it too (header X-CSRFToken), a call with the service token needn't (no cookie).
- Login attempts are rate-limited (Flask-Limiter; Redis when RATELIMIT_STORAGE_URI says so).
- Every response carries security headers, including a Content-Security-Policy that allows no
  inline script: pages load their JavaScript from static files.
"""
from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from functools import wraps
from typing import Callable

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFProtect

from web.bootstrap import services
from web.store import users

csrf = CSRFProtect()
login_manager = LoginManager()

STAFF_ROLES = ("call_handler", "duty_worker", "supervisor", "admin")
AUDIT_ROLES = ("supervisor", "admin")
WORKLIST_ROLES = ("duty_worker", "supervisor", "admin")       # may see the worklist
WORKLIST_ACT_ROLES = ("duty_worker", "supervisor")            # may accept, return, complete
OVERRIDE_ROLES = ("supervisor",)                              # may override a route or decide again
CREATE_ROLES = ("call_handler", "supervisor")                 # may open a contact

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Staff:
    """The logged-in member of staff (a plain value, not a database row)."""

    id: int
    username: str
    role: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


@dataclass(frozen=True)
class Actor:
    """Whoever is making the current request: a member of staff or the service token."""

    name: str
    role: str | None
    kind: str  # "staff" or "service"


@login_manager.user_loader
def _load_user(user_id: str) -> Staff | None:
    with services().store.session() as db:
        user = users.get_user(db, int(user_id))
        if user is None or not user.active:
            return None
        return Staff(id=user.id, username=user.username, role=user.role)


@login_manager.unauthorized_handler
def _unauthorized():  # noqa: ANN202
    if wants_json():
        abort(401, description="Log in, or send the service token as 'Authorization: Bearer <token>'.")
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def service_token_matches() -> bool:
    expected = current_app.config.get("SPOA_SERVICE_TOKEN")
    header = request.headers.get("Authorization", "")
    if not expected or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].strip().encode(), str(expected).encode())


def current_actor() -> Actor:
    actor = g.get("spoa_actor")
    if actor is not None:
        return actor
    if current_user.is_authenticated:
        return Actor(current_user.username, current_user.role, "staff")
    return Actor("anonymous", None, "anonymous")


def roles_required(*roles: str) -> Callable:
    """A page for logged-in staff with one of these roles (login page if not logged in, 403 if
    the role is wrong)."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403, description="Your role can't open this page.")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def api_auth(*roles: str, service: bool = True) -> Callable:
    """A JSON endpoint for the service token (if `service`) or staff with one of `roles`
    (any staff role if none are named). Staff calls that change something need the CSRF token."""
    allowed = roles or STAFF_ROLES

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if request.headers.get("Authorization"):
                if not (service and service_token_matches()):
                    abort(401 if not service_token_matches() else 403,
                          description="The service token is wrong or can't be used here.")
                g.spoa_actor = Actor("service", None, "service")
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                abort(401, description="Log in, or send the service token as 'Authorization: Bearer <token>'.")
            if current_user.role not in allowed:
                abort(403, description="Your role can't do this.")
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                csrf.protect()
            g.spoa_actor = Actor(current_user.username, current_user.role, "staff")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _idle_timeout():  # noqa: ANN202
    """End a staff session after SPOA_IDLE_TIMEOUT without a request."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    last_seen = session.get("last_seen")
    limit = current_app.config["SPOA_IDLE_TIMEOUT"].total_seconds()
    if last_seen is not None and now - float(last_seen) > limit:
        logout_user()
        session.clear()
        if wants_json():
            abort(401, description="Your session timed out; log in again.")
        return redirect(url_for("auth.login", timed_out=1))
    session["last_seen"] = now
    return None


def _security_headers(response):  # noqa: ANN001, ANN202
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static":
        # Pages and answers hold personal data: no caching by browsers or proxies.
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    app.before_request(_idle_timeout)
    app.after_request(_security_headers)


def init_rate_limits(app: Flask) -> Limiter:
    """One limiter per app (its own counters; storage from RATELIMIT_STORAGE_URI), limiting
    POSTs to the login view and the resident chat. Called after the blueprints are registered."""
    limiter = Limiter(get_remote_address, app=app, default_limits=[])
    app.view_functions["auth.login"] = limiter.limit(
        app.config["SPOA_LOGIN_RATE_LIMIT"], methods=["POST"],
        error_message="Too many login attempts; wait a minute and try again.")(app.view_functions["auth.login"])
    # The resident chat is public and a first message creates a contact: a per-address limit
    # keeps one client from filling the store (a conversation needs a few dozen messages).
    for endpoint in ("chat.message", "chat.form"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = limiter.limit(
                app.config["SPOA_CHAT_RATE_LIMIT"], methods=["POST"],
                error_message="Too many messages in a short time; wait a minute and try again.")(app.view_functions[endpoint])
    app.extensions["spoa_limiter"] = limiter
    return limiter
