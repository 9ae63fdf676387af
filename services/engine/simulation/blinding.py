"""Options of a stimulus, and their blinding (in the manner of TinyTroupe's ABRandomizer).

A blinded stimulus shows each participant its options as `Option 1`, `Option 2`, ... in an order of their
own, drawn from the stimulus's seed and the participant's name (so a replay shows the same order), without
the options' names. Before extraction, `Option N` in what a participant said is mapped back to the name of
the option that participant saw as N.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence

from pydantic import BaseModel

OPTION_REFERENCE = re.compile(r"\boption\s*(?:no\.?\s*|number\s*|#\s*)?(\d{1,2})\b", re.IGNORECASE)


class StimulusOption(BaseModel):
    name: str
    description: str = ""


def option_order(options: Sequence[StimulusOption], seed: int, participant: str) -> list[int]:
    """The indexes of `options` in the order `participant` sees them."""
    digest = hashlib.sha256(f"{seed}\x00{participant}".encode()).digest()
    order = list(range(len(options)))
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    return order


def options_text(options: Sequence[StimulusOption], *, blind: bool, seed: int, participant: str) -> str:
    """The options as a participant reads them after the stimulus; empty without options."""
    if not options:
        return ""
    if not blind:
        return "Options:\n" + "\n".join(
            f"- {option.name}: {option.description}" if option.description else f"- {option.name}" for option in options
        )
    shown = [options[index] for index in option_order(options, seed, participant)]
    return "Options:\n" + "\n".join(
        f"Option {number}: {option.description or option.name}" for number, option in enumerate(shown, start=1)
    )


def unblind(text: str, options: Sequence[StimulusOption], seed: int, participant: str) -> str:
    """`text` said by `participant` with each `Option N` they saw replaced by that option's name."""
    order = option_order(options, seed, participant)

    def named(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return options[order[number - 1]].name if 1 <= number <= len(order) else match.group(0)

    return OPTION_REFERENCE.sub(named, text)
