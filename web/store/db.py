"""The database connection: engine, sessions, one unit of work with a retry, migrations.

SQLite (the default) is set up so that an acknowledged contact survives a crash: WAL,
foreign keys on, `synchronous=FULL`. PostgreSQL is used when a `postgresql://` URL is given
(psycopg 3). A unit of work that fails because the database connection dropped is retried
once on a fresh connection; if it fails again the caller gets `StoreUnavailable` (HTTP 503),
and nothing was half-written because the transaction rolled back.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from . import seal
from .audit import UNKEYED, AuditSettings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The database cannot be reached (or stays locked) after a retry."""


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` (as hosting platforms give them) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # timeout: wait up to 30 s for another writer instead of failing at once.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               pool_size=pool_size, max_overflow=pool_size * 2)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    # pool_pre_ping: a connection the server dropped is replaced before use, not failed on.
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size * 2,
                         connect_args=connect_args)


def _is_transient(error: DBAPIError) -> bool:
    if isinstance(error, OperationalError):
        return True
    return bool(getattr(error, "connection_invalidated", False))


class Store:
    """The engine and session factory, built once at start-up (see web/bootstrap.py)."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 10,
                 audit_settings: AuditSettings | None = None):
        self.url = normalise_url(url)
        self.schema = schema
        self.engine = make_engine(self.url, schema=schema, pool_size=pool_size)
        # The audit chain's key and head file travel with every session (web/store/audit.py).
        self.audit_settings = audit_settings or UNKEYED
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={"audit": self.audit_settings})
        seal.install(self.sessions)
        # SQLite has one writer at a time; queueing writers here is fairer and faster than
        # each thread sleeping in SQLite's busy handler. Other processes still use busy_timeout.
        self._write_lock = threading.RLock() if self.backend == "sqlite" else nullcontext()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name  # "sqlite" or "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading (or for a caller that commits itself)."""
        with self.sessions() as session:
            yield session

    def run(self, work: Callable[[Session], T], *, retries: int = 1, conflict_retries: int = 0) -> T:
        """Run `work(session)` in one transaction and commit it; all or nothing.

        A dropped connection or a locked database is retried once on a fresh connection.
        `conflict_retries`: a unique constraint that failed because a concurrent transaction
        inserted the same key first is run again that many times, so `work` finds the
        winner's row (one contact per conversation, idempotency keys).
        Domain errors (bad input, unknown id) propagate unchanged after the rollback.
        """
        for attempt in range(retries + 1):
            with self._write_lock, self.sessions() as session:
                try:
                    result = work(session)
                    session.commit()
                    return result
                except IntegrityError:
                    session.rollback()
                    if conflict_retries <= 0:
                        raise
                    conflict_retries -= 1
                    log.info("unique key taken by a concurrent transaction; running the unit of work again")
                    return self.run(work, retries=retries, conflict_retries=conflict_retries)
                except DBAPIError as error:
                    session.rollback()
                    if not _is_transient(error):
                        raise
                    log.warning("database unavailable (attempt %d): %s", attempt + 1, type(error.orig).__name__)
                    if attempt < retries:
                        self.engine.dispose()  # drop every pooled connection; reconnect
                        time.sleep(0.2)
                        continue
                    raise StoreUnavailable("The database is not available; nothing was saved. Try again shortly.") from error
        raise AssertionError("unreachable")

    def ping(self) -> None:
        """Raise StoreUnavailable unless a trivial query succeeds."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError as error:
            raise StoreUnavailable("The database is not available.") from error

    # -- migrations -----------------------------------------------------------------------

    def alembic_config(self, connection=None):  # noqa: ANN001
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        if connection is not None:
            config.attributes["connection"] = connection
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to date (alembic upgrade) on this store's engine."""
        from alembic import command

        with self.engine.begin() as connection:
            command.upgrade(self.alembic_config(connection), revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()
