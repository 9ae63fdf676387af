"""Standing panels in storage: records, errors and the methods both backends implement.

A panel's members (agents with their memories and histories) are kept as one stored payload, the
serialized `Panel` holding only its `members`. Writes of members name the version they were read at, so
two concurrent updates of one panel cannot lose each other's changes: the later one is refused
(PanelChanged) and read again by its caller.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from services.control.storage.base import Page, StorageError, StoredPayload


@dataclass(frozen=True, slots=True)
class PanelMembers:
    """A panel's members as stored, with the counts shown beside them."""

    member_count: int
    study_count: int
    payload: StoredPayload


@dataclass(frozen=True, slots=True)
class NewPanel:
    panel_id: str
    display_name: str
    description: str
    labels: Mapping[str, str]
    members: PanelMembers
    tenant: str = ""


@dataclass(frozen=True, slots=True)
class PanelRecord:
    panel_id: str
    display_name: str
    description: str
    labels: dict[str, str]
    member_count: int
    study_count: int
    create_time: datetime
    update_time: datetime
    version: int
    """Grows by one with every change of the members."""
    payload: StoredPayload
    tenant: str = ""


class PanelNotFound(StorageError):
    def __init__(self, panel_id: str):
        super().__init__(f"panel {panel_id!r} not found")
        self.panel_id = panel_id


class PanelAlreadyExists(StorageError):
    def __init__(self, panel_id: str):
        super().__init__(f"panel {panel_id!r} already exists")
        self.panel_id = panel_id


class PanelChanged(StorageError):
    """The panel changed since it was read (or was deleted)."""

    def __init__(self, panel_id: str):
        super().__init__(f"panel {panel_id!r} changed while it was being updated")
        self.panel_id = panel_id


class PanelStorage(abc.ABC):
    """Panels of each tenant; another tenant's panel is reported missing (PanelNotFound). Panel ids are
    unique within a tenant."""

    @abc.abstractmethod
    async def create_panel(self, new: NewPanel) -> PanelRecord:
        """Creates a panel at version 1; PanelAlreadyExists when the tenant has one of that id."""

    @abc.abstractmethod
    async def get_panel(self, panel_id: str, *, tenant: str = "") -> PanelRecord: ...

    @abc.abstractmethod
    async def list_panels(self, *, limit: int, after: int | None, tenant: str = "") -> Page[PanelRecord]:
        """The tenant's panels newest first; `after` is the cursor of the previous page."""

    @abc.abstractmethod
    async def delete_panel(self, panel_id: str, *, tenant: str = "") -> None: ...

    @abc.abstractmethod
    async def replace_panel_members(
        self, panel_id: str, members: PanelMembers, *, expected_version: int, tenant: str = ""
    ) -> PanelRecord:
        """Stores new members if the panel is still at `expected_version` (PanelChanged otherwise)."""
