"""Where the control service keeps its state: SQLite by default, PostgreSQL when DATABASE_URL names one."""

from __future__ import annotations

from services.control.storage.base import Storage
from services.runtime.config import MeshSettings

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def create_storage(settings: MeshSettings) -> Storage:
    """The backend the settings ask for (not yet opened)."""
    url = settings.database_url.get_secret_value() if settings.database_url else ""
    if url.startswith(POSTGRES_SCHEMES):
        from services.control.storage.postgres import PostgresStorage

        return PostgresStorage(url)
    if url:
        raise ValueError("DATABASE_URL must start with postgresql:// or postgres:// (unset means SQLite)")
    from services.control.storage.sqlite import SqliteStorage

    return SqliteStorage(settings.sqlite_path())
