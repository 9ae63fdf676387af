"""Where an agent came from and the context it was made for."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from services.engine.population_plan import PlanEntry


class Provenance(BaseModel):
    origin: Literal["spec", "demographics", "grounding"]
    context: str = ""
    particularities: str = ""
    spec_file: str | None = None
    demographics_title: str | None = None
    demographics_source: str | None = None
    plan_entry_index: int | None = None
    plan_entry: PlanEntry | None = None
    grounding_sources: list[str] = Field(default_factory=list)
    fragments: list[str] = Field(default_factory=list)
