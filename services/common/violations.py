"""Field violations of one request, collected and raised together as one INVALID_ARGUMENT."""

from __future__ import annotations

from collections.abc import Iterable

from services.runtime.errors import InvalidArgument


class Violations:
    """Collects `(field, description)` pairs; `raise_if_any` raises them as one `BadRequest`."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, field: str, description: str) -> None:
        self.found.append((field, description))

    def extend(self, violations: Iterable[tuple[str, str]]) -> None:
        self.found.extend(violations)

    def check(self, ok: bool, field: str, description: str) -> bool:
        """Adds the violation unless `ok`; returns `ok`."""
        if not ok:
            self.add(field, description)
        return ok

    def __bool__(self) -> bool:
        return bool(self.found)

    def raise_if_any(self) -> None:
        if self.found:
            (field, description), *more = self.found
            raise InvalidArgument(field, description, more=more)
