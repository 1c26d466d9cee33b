"""The store: SQLAlchemy 2 models, the database connection, and the repository functions.

Modules: `db` (Store: engine, sessions, unit of work, migrations), `models` (tables),
`contacts` (create/add facts/review/read/list), `worklist`, `audit` (hash chain), `users`,
`replay`. Repository functions take a Session and never commit; `Store.run` does.
"""
from .db import Store, StoreUnavailable

__all__ = ["Store", "StoreUnavailable"]
