"""The web app's commands, mounted into the `spoa` command by spoa/cli.py (`register(main)`).

    spoa users add NAME --role ROLE [--password-stdin]
    spoa audit verify
    spoa replay --from DATE --to DATE [--rules DIR] [--json]
    spoa demo [--if-empty]
    spoa serve [--host H] [--port P] [--workers N] [--threads N] [--no-migrate]
    spoa db upgrade | spoa db current
    spoa erase CONTACT | spoa erase --expired
    spoa outbox run [--once] | spoa outbox list [--status S] | spoa outbox retry ID
    spoa receiver [--host H] [--port P]

Each command builds the app with `create_app` (settings from the environment: DATABASE_URL,
SECRET_KEY, ...) and uses its services; `python -m web.cli ...` works without the spoa CLI.
"""
from __future__ import annotations

import json
import sys

import click

ROLES = ("call_handler", "duty_worker", "supervisor", "admin")


def _app(ctx: click.Context, **overrides):  # noqa: ANN003, ANN202
    """The app, with the config and rules the parent `spoa` command was given (if any)."""
    from web import create_app

    settings = dict(overrides)
    obj = ctx.find_root().obj or {}
    if obj.get("config_path"):
        settings["SPOA_CONFIG"] = obj["config_path"]
    if obj.get("rules_dir"):
        settings["SPOA_RULES_DIR"] = obj["rules_dir"]
    return create_app(settings)


@click.group("users")
def users_group() -> None:
    """Staff users."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Create a staff user NAME with ROLE (the password is prompted for, or read from stdin)."""
    from web.store import audit, users

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app(ctx)
    spoa = app.extensions["spoa"]
    spoa.store.upgrade()

    def add(db):  # noqa: ANN001, ANN202
        user = users.add_user(db, name, password, role)
        audit.append(db, actor="cli", action="user.add", target=user.username, details={"role": role},
                     at=spoa.now())
        return user.username

    try:
        username = spoa.store.run(add)
    except users.UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"user {username} ({role}) created")


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first broken row."""
    from web.store import audit

    spoa = _app(ctx).extensions["spoa"]
    with spoa.store.session() as db:
        result = audit.verify(db)
    click.echo(str(result))
    if not result.ok:
        sys.exit(1)


@click.command("replay")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First day (received on or after).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last day (received on or before).")
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False),
              help="A candidate rules folder (default: the current rules).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def replay_command(ctx: click.Context, date_from, date_to, rules_dir: str | None, as_json: bool) -> None:  # noqa: ANN001
    """Re-decide stored contacts with the current or a candidate ruleset; report route changes."""
    from web.store.replay import replay_with

    spoa = _app(ctx).extensions["spoa"]
    with spoa.store.session() as db:
        report = replay_with(db, spoa.triage, rules_dir=rules_dir,
                             date_from=date_from.date() if date_from else None,
                             date_to=date_to.date() if date_to else None)
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.text())


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only on a database with no users and no contacts (make run).")
@click.pass_context
def demo_command(ctx: click.Context, if_empty: bool) -> None:
    """Create demo staff logins (printed once) and a few dozen fictional contacts."""
    from web.demo import seed_demo, seed_demo_if_empty

    spoa = _app(ctx).extensions["spoa"]
    spoa.store.upgrade()
    result = seed_demo_if_empty(spoa) if if_empty else seed_demo(spoa)
    if result is not None:
        click.echo(result.text())


@click.command("serve")
@click.option("--host", default=None, help="Default: HOST or 127.0.0.1.")
@click.option("--port", type=int, default=None, help="Default: PORT or 5000.")
@click.option("--workers", type=int, default=None, help="gunicorn worker processes (default WEB_CONCURRENCY or 2).")
@click.option("--threads", type=int, default=None, help="Threads per worker (default SPOA_THREADS or 8).")
@click.option("--no-migrate", is_flag=True, help="Don't run the migrations first (a second process of one service).")
@click.option("--no-demo", is_flag=True, hidden=True, help="Kept for old scripts: serve never seeds the demo.")
@click.pass_context
def serve_command(ctx: click.Context, host: str | None, port: int | None, workers: int | None, threads: int | None,
                  no_migrate: bool, no_demo: bool) -> None:  # noqa: ARG001
    """Migrate the database and serve with gunicorn (threaded workers). Never seeds the demo:
    that is `spoa demo` (make run does it on an empty database)."""
    import logging

    from web.serving import gunicorn_options, serve_app
    from web.settings import ConfigurationError

    # Contact ids and routes only reach the log (see web/blueprints/api.py); never facts.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    try:
        app = _app(ctx)
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None
    spoa = app.extensions["spoa"]
    if not no_migrate:
        spoa.store.upgrade()
    host = host or app.config["HOST"]
    port = port or int(app.config["PORT"])
    options = gunicorn_options(host, port, workers=workers, threads=threads or int(app.config["SPOA_THREADS"]))
    click.echo(f"SPoA web app on http://{host}:{port} (database: {spoa.store.backend}, "
               f"ruleset {spoa.triage.ruleset.version}, {options['workers']} workers x {options['threads']} threads)")
    spoa.store.dispose()   # the workers open their own connections
    serve_app(lambda: _app(ctx), options)


@click.group("db")
def db_group() -> None:
    """The database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply the migrations up to the latest."""
    spoa = _app(ctx).extensions["spoa"]
    spoa.store.upgrade()
    click.echo(f"database ({spoa.store.backend}) at revision {spoa.store.current_revision()}")


@db_group.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Print the database's migration revision."""
    spoa = _app(ctx).extensions["spoa"]
    click.echo(spoa.store.current_revision() or "empty (run: spoa db upgrade)")


@click.group("outbox")
def outbox_group() -> None:
    """Referral messages to receiving teams (the transactional outbox)."""


@outbox_group.command("run")
@click.option("--once", is_flag=True, help="One round (claim, send, record), then exit.")
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between idle rounds.")
@click.pass_context
def outbox_run(ctx: click.Context, once: bool, interval: float) -> None:
    """Deliver due referral messages, with retries and backoff, until stopped."""
    import logging

    from spoa.delivery import DeliveryPolicy
    from web.outbox_dispatcher import Dispatcher

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # No migration here: `spoa serve` migrates; until it has, a round finds no table, logs it
    # and waits (two processes migrating one SQLite file at once could lock each other out).
    spoa = _app(ctx).extensions["spoa"]
    dispatcher = Dispatcher(spoa.store, DeliveryPolicy.from_config(spoa.config.data), clock=spoa.clock)
    if once:
        click.echo(f"{dispatcher.run_once()} message(s) tried")
        return
    click.echo(f"outbox dispatcher {dispatcher.worker} on {spoa.store.backend}")
    try:
        dispatcher.run(interval=interval)
    except KeyboardInterrupt:
        pass


@outbox_group.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "delivered", "dead", "email"]), default=None)
@click.pass_context
def outbox_list(ctx: click.Context, status: str | None) -> None:
    """The newest messages and their delivery state (no content)."""
    from web.store import outbox

    spoa = _app(ctx).extensions["spoa"]
    with spoa.store.session() as db:
        for message in outbox.list_messages(db, status=status):
            row = outbox.message_dict(message)
            click.echo(f"{row['id']:>5} {row['contact_id']} {row['status']:<9} attempts {row['attempts']}/"
                       f"{row['max_attempts']} {row['team']}" + (f" | {row['last_error']}" if row["last_error"] else ""))


@outbox_group.command("retry")
@click.argument("outbox_id", type=int)
@click.pass_context
def outbox_retry(ctx: click.Context, outbox_id: int) -> None:
    """Send a dead-lettered message again (same MessageHeader id)."""
    from web.store import outbox

    spoa = _app(ctx).extensions["spoa"]
    try:
        spoa.store.run(lambda db: outbox.retry(db, outbox_id, actor="cli", actor_role=None, now=spoa.now()))
    except (LookupError, outbox.OutboxError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"message {outbox_id} queued to send again")


@click.command("receiver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5099, show_default=True)
@click.option("--token-env", default=None, help="Require this environment variable's value as the Authorization header.")
def receiver_command(host: str, port: int, token_env: str | None) -> None:
    """A demo receiving team: validates referral messages and answers as a BaRS receiver would."""
    import os

    from waitress import serve

    from web.receiver import ReceiverState, create_receiver

    state = ReceiverState(token=os.environ.get(token_env) if token_env else None)
    click.echo(f"demo receiver on http://{host}:{port}/<team>/$process-message")
    serve(create_receiver(state), host=host, port=port, threads=4, ident="spoa-receiver")


@click.command("erase")
@click.argument("contact", required=False)
@click.option("--expired", is_flag=True,
              help="Erase every closed contact's details older than config.yml referrals.person_details_retention_days.")
@click.pass_context
def erase_command(ctx: click.Context, contact: str | None, expired: bool) -> None:
    """Erase the person's details of CONTACT (name, address, phones, NHS number, their words,
    the console's caller labels and notes), leaving a pseudonym; or, with --expired, of every
    contact past the retention setting. Triage facts, decisions and the audit chain stay."""
    from datetime import timedelta

    from web.store import people
    from web.store.contacts import ContactNotFound

    if bool(contact) == expired:
        raise click.UsageError("Name one CONTACT, or give --expired (run it daily).")
    spoa = _app(ctx).extensions["spoa"]
    now = spoa.now()
    if expired:
        days = int((spoa.config.data.get("referrals") or {}).get("person_details_retention_days", 2922))
        erased = spoa.store.run(lambda db: people.erase_expired(db, retention=timedelta(days=days), actor="cli",
                                                                now=now))
        click.echo(f"erased the details of {len(erased)} contact(s) closed more than {days} days ago")
        return
    try:
        pseudonym = spoa.store.run(lambda db: people.erase(db, contact, actor="cli", actor_role=None, now=now))
    except ContactNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{contact}: the person's details are erased; they are {pseudonym} from now on")


COMMANDS = [users_group, audit_group, replay_command, demo_command, serve_command, db_group, outbox_group,
            receiver_command, erase_command]


def register(group: click.Group) -> None:
    """Mount these commands into the `spoa` command group."""
    for command in COMMANDS:
        group.add_command(command)


@click.group()
def cli() -> None:
    """The web app's commands (also mounted into `spoa`)."""


register(cli)

if __name__ == "__main__":
    cli()
