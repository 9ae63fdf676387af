"""Model prices: what a model call costs, from `LLM_PRICES` (JSON) or `LLM_PRICES_FILE` (JSON or YAML).

Prices are US dollars per million tokens, per model name as the endpoint is called with it:

    {"gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.6}}

Reasoning tokens are billed as output (endpoints count them in `completion_tokens`); prompt tokens the
endpoint served from its prompt cache are billed at `cached_input` (the input price when not given). The
embedded model costs nothing. A model with no price has an unknown cost: `cost()` returns None, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, TypeAdapter

from services.runtime.config import LLMSettings

PER_TOKENS = 1_000_000


class ModelPrice(BaseModel):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    """Prompt tokens served from the endpoint's prompt cache; None: the input price."""

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_prompt_tokens: int = 0) -> float:
        cached = min(cached_prompt_tokens, prompt_tokens)
        cached_price = self.input if self.cached_input is None else self.cached_input
        return ((prompt_tokens - cached) * self.input + cached * cached_price + completion_tokens * self.output) / (
            PER_TOKENS
        )


FREE = ModelPrice(input=0.0, output=0.0)
_PRICES = TypeAdapter(dict[str, ModelPrice])


class PriceTable:
    """Prices by model name; the embedded model is free, any other model without a price is unknown."""

    def __init__(self, prices: Mapping[str, ModelPrice] | None = None) -> None:
        from services.llm.embedded import MODEL_ALIAS  # here: `python -m services.llm.embedded` imports this package

        self._prices = {MODEL_ALIAS: FREE, **(prices or {})}

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> PriceTable:
        """`LLM_PRICES_FILE` first, then `LLM_PRICES` on top of it (the variable wins for a model in both)."""
        prices: dict[str, ModelPrice] = {}
        if settings.prices_file is not None:
            prices.update(parse_prices(Path(settings.prices_file).read_text(encoding="utf-8")))
        prices.update(_PRICES.validate_python(settings.prices))
        return cls(prices)

    def price_of(self, model: str) -> ModelPrice | None:
        return self._prices.get(model)

    def cost(
        self, model: str, prompt_tokens: int, completion_tokens: int, cached_prompt_tokens: int = 0
    ) -> float | None:
        """The cost in US dollars, or None when the model has no price."""
        price = self.price_of(model)
        return None if price is None else price.cost(prompt_tokens, completion_tokens, cached_prompt_tokens)

    def models(self) -> list[str]:
        return sorted(self._prices)


def parse_prices(text: str) -> dict[str, ModelPrice]:
    """Prices from JSON or YAML text (`{model: {input, output, cached_input}}`); raises ValueError when malformed."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"prices are neither JSON nor YAML: {error}") from None
    return _PRICES.validate_python(data)
