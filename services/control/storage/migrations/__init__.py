"""Versioned schema scripts per backend: `<backend>/NNNN_name.sql`, applied in order at start-up.

Each backend records applied versions in a `schema_migrations` table and applies the missing ones in
one transaction under a lock, so several replicas starting together migrate exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_SCRIPT_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(backend: str) -> list[Migration]:
    """The scripts of `backend` (`sqlite` or `postgres`) in version order."""
    migrations = []
    for entry in resources.files(__package__).joinpath(backend).iterdir():
        match = _SCRIPT_NAME.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in migrations]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions for {backend}: {versions}")
    return migrations
