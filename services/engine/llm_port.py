"""The one thing the engine needs from the LLM layer: a structured chat completion."""

from __future__ import annotations

from typing import Protocol, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)

Messages = list[dict[str, str]]
"""Chat messages in the OpenAI form: `[{"role": "system" | "user" | "assistant", "content": "..."}]`."""


class StructuredLLM(Protocol):
    """Returns the model's answer parsed into `output_model`; raises the LLM layer's errors on failure."""

    async def structured(
        self,
        messages: Messages,
        output_model: type[ModelT],
        *,
        session: str = "",
        label: str = "",
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ModelT: ...
