"""Plain-text renderings of a persona for prompts: the whole persona, or a compact one cut to a budget.

The whole rendering (`render_whole_persona`) holds every field of the persona, nested ones and those
of merged fragments included, each leaf value word for word on its own line, as TinyTroupe puts the
whole persona in every prompt. `render_persona` gives it whenever it fits the budget.

The compact rendering, for small contexts, has one line per field in order of importance (identity,
occupation, personality, style, beliefs, ...). When it does not fit either, every shown line gets a
fair share of the budget and the least important lines are left out rather than letting any line
shrink below a readable length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MIN_LINE_CHARS = 80
_ELLIPSIS = "\u2026"

_LISTED_FIELDS = (
    ("long_term_goals", "Goals"),
    ("preferences.interests", "Interests"),
    ("preferences.likes", "Likes"),
    ("preferences.dislikes", "Dislikes"),
    ("occupation.description", "Work"),
    ("education", "Education"),
    ("skills", "Skills"),
    ("behaviors", "Behaviors"),
    ("health", "Health"),
    ("relationships", "Relationships"),
    ("other_facts", "Other facts"),
)
_RENDERED_KEYS = {
    "name",
    "age",
    "gender",
    "nationality",
    "residence",
    "occupation",
    "personality",
    "style",
    "beliefs",
    "preferences",
} | {path.split(".")[0] for path, _ in _LISTED_FIELDS}


def _flatten(value: Any) -> str:
    """Text of any JSON value: lists joined by '; ', objects as 'key: value'."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        if set(value) <= {"name", "description"} and "name" in value:
            description = _flatten(value.get("description"))
            return f"{value['name']} ({description})" if description else str(value["name"])
        return "; ".join(f"{k.replace('_', ' ')}: {text}" for k, v in value.items() if (text := _flatten(v)))
    if isinstance(value, list):
        return _join_items([text for item in value if (text := _flatten(item))])
    return str(value).strip()


def _join_items(items: list[str]) -> str:
    """Items as one run of text: sentences follow each other, fragments are separated by semicolons."""
    joined = ""
    for item in items:
        if joined:
            joined += " " if joined[-1] in ".!?" else "; "
        joined += item
    return joined


def _lookup(persona: Mapping[str, Any], dotted: str) -> Any:
    value: Any = persona
    for key in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _occupation_line(occupation: Any) -> str:
    if isinstance(occupation, Mapping):
        title, organization = _flatten(occupation.get("title")), _flatten(occupation.get("organization"))
        return f"{title} at {organization}" if title and organization else title or organization
    return _flatten(occupation)


def persona_lines(persona: Mapping[str, Any]) -> list[str]:
    """The rendering's lines, most important first, without any budget."""
    facts = [("age", "age"), ("gender", "gender"), ("nationality", "nationality"), ("residence", "lives in")]
    identity = "; ".join(f"{label} {text}" for key, label in facts if (text := _flatten(persona.get(key))))
    candidates = [
        ("Name", f"{_flatten(persona.get('name'))}" + (f" ({identity})" if identity else "")),
        ("Occupation", _occupation_line(persona.get("occupation"))),
        ("Personality", _flatten(_lookup(persona, "personality.traits"))),
        ("Big Five", _flatten(_lookup(persona, "personality.big_five"))),
        ("Style", _flatten(persona.get("style"))),
        ("Beliefs", _flatten(persona.get("beliefs"))),
    ]
    candidates += [(label, _flatten(_lookup(persona, path))) for path, label in _LISTED_FIELDS]
    personality = persona.get("personality")
    if isinstance(personality, Mapping):
        rest = {key: value for key, value in personality.items() if key not in ("traits", "big_five")}
        candidates.append(("Personality, more", _flatten(rest)))
    candidates += [
        (key.replace("_", " ").capitalize(), _flatten(value))
        for key, value in persona.items()
        if key not in _RENDERED_KEYS
    ]
    return [f"{label}: {text}" for label, text in candidates if text]


def shorten(text: str, width: int) -> str:
    """`text` cut to at most `width` characters at a word boundary, marked with an ellipsis."""
    if len(text) <= width:
        return text
    if width <= 1:
        return _ELLIPSIS[:width]
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space > width // 2:
        cut = cut[:space]
    return cut.rstrip(" ;,:.") + _ELLIPSIS


def _water_level(lengths: list[int], budget: int) -> int:
    """Largest per-line cap such that the capped lengths sum to at most `budget`."""
    remaining_budget, remaining_lines = budget, len(lengths)
    for length in sorted(lengths):
        if length * remaining_lines <= remaining_budget:
            remaining_budget -= length
            remaining_lines -= 1
        else:
            return remaining_budget // remaining_lines
    return max(lengths, default=0)


def fit_lines(lines: list[str], max_chars: int, min_line_chars: int = _MIN_LINE_CHARS) -> str:
    """Joins `lines` with newlines in at most `max_chars` characters (see module docstring).

    The first line (the identity) is kept whole when it takes at most half the budget.
    """
    if not lines or max_chars <= 0:
        return ""
    head, rest = lines[0], lines[1:]
    if len(head) > max_chars // 2:
        head, rest = "", lines
    budget = max_chars - len(head)
    for shown in range(len(rest), -1, -1):
        chosen = rest[:shown]
        line_budget = budget - shown + (0 if head else 1)
        cap = _water_level([len(line) for line in chosen], line_budget)
        if shown <= 1 or cap >= min(min_line_chars, max(len(line) for line in chosen)):
            fitted = [shorten(line, max(cap, 0)) for line in chosen]
            return "\n".join([head, *fitted] if head else fitted)
    return head


_INDENT = "  "
_IDENTITY_KEYS = ("name", "age", "gender", "nationality", "residence")


def _label(key: Any) -> str:
    return " ".join(str(key).replace("_", " ").split()).capitalize() or "-"


def _leaf(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(str(value).split())


def _whole_lines(value: Any, depth: int) -> list[str]:
    """The lines of a nested value: objects as `Label: value` (nested deeper), lists as `- item`."""
    indent = _INDENT * depth
    if isinstance(value, Mapping):
        lines: list[str] = []
        for key, item in value.items():
            if item is None or item == "" or item == [] or item == {}:
                continue
            if isinstance(item, Mapping | list):
                lines += [f"{indent}{_label(key)}:", *_whole_lines(item, depth + 1)]
            else:
                lines.append(f"{indent}{_label(key)}: {_leaf(item)}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, Mapping) and "name" in item and set(item) <= {"name", "description"}:
                description = _leaf(item.get("description") or "")
                lines.append(f"{indent}- {_leaf(item['name'])}" + (f": {description}" if description else ""))
            elif isinstance(item, Mapping | list):
                nested = _whole_lines(item, depth + 1)
                if nested:
                    lines.append(f"{indent}- {nested[0].lstrip()}")
                    lines += nested[1:]
            elif item is not None and _leaf(item):
                lines.append(f"{indent}- {_leaf(item)}")
        return lines
    return [f"{indent}{_leaf(value)}"] if value is not None and _leaf(value) else []


def render_whole_persona(persona: Mapping[str, Any]) -> str:
    """Every field of the persona, identity first then in the spec's order, each value whole."""
    ordered = {key: persona[key] for key in _IDENTITY_KEYS if key in persona}
    ordered.update((key, value) for key, value in persona.items() if key not in ordered)
    return "\n".join(_whole_lines(ordered, 0))


def render_persona(persona: Mapping[str, Any], max_chars: int = 1200) -> str:
    """The whole persona when it fits `max_chars`, else the compact rendering cut to it."""
    whole = render_whole_persona(persona)
    if len(whole) <= max_chars:
        return whole
    return fit_lines(persona_lines(persona), max_chars)
