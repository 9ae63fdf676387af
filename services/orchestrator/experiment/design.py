"""Who takes which arm: a seeded, balanced assignment (between subjects) or counterbalanced orders (within)."""

from __future__ import annotations

import hashlib
import random


def seed_of(seed: int, session_name: str) -> int:
    """The request's seed, or one derived from the experiment's session when it gives none (0)."""
    if seed:
        return seed
    return int.from_bytes(hashlib.sha256(session_name.encode()).digest()[:6], "big")


def between_subjects(participants: list[str], arms: int, seed: int) -> list[list[str]]:
    """Each participant in one arm, at random with `seed`; arm sizes differ by at most one."""
    shuffled = sorted(participants)
    random.Random(seed).shuffle(shuffled)
    return [sorted(shuffled[index::arms]) for index in range(arms)]


def within_subjects_orders(participants: list[str], arm_names: list[str], seed: int) -> dict[str, list[str]]:
    """Each participant's order of the arms: the rotations of the arm list (a Latin square), dealt to the
    participants in a seeded random order so that every order is used as evenly as possible."""
    shuffled = sorted(participants)
    random.Random(seed).shuffle(shuffled)
    count = len(arm_names)
    return {name: arm_names[index % count :] + arm_names[: index % count] for index, name in enumerate(shuffled)}
