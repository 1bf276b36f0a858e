"""What a parser is: the preset it applies, what it returns, how it registers, and the shared field check.

Parsers turn one record into (context, question, answer, extra) or raise
Rejected with a stable code; t2vid.parsers.datasets holds the ones presets
name, and `@parser` registers each under its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from t2vid.charset import is_invisible
from t2vid.presets import TEMPLATE
from t2vid.rejects import Rejected


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    parser: str
    fields: dict
    instruction_template: str | None = field(default=None, metadata=TEMPLATE)
    min_context_words: int = 0
    options: dict = field(default_factory=dict)
    whitespace_by_dataset: dict = field(default_factory=dict)  # dataset or subset name -> whitespace mode


@dataclass(frozen=True)
class Parsed:
    context: str
    question: str
    answer: str
    turns: tuple[dict, ...] = ()
    meta: dict = field(default_factory=dict)


Parser = Callable[[dict, Preset], Parsed]
PARSERS: dict[str, Parser] = {}
PARSER_FIELDS: dict[str, tuple[str, ...]] = {}  # keys a preset's `fields` must have, checked when it is loaded
CONTEXT_ONLY: set[str] = set()  # parsers that give no question or answer: usable with --tasks-only alone


def parser(name: str, fields: tuple[str, ...] = (), questions: bool = True) -> Callable[[Parser], Parser]:
    def register(function: Parser) -> Parser:
        PARSERS[name] = function
        PARSER_FIELDS[name] = fields
        if not questions:
            CONTEXT_ONLY.add(name)
        return function

    return register


def require_text(record: dict, name: str) -> str:
    """A required non-empty string field, or a reject naming what is wrong."""
    if name not in record:
        raise Rejected("missing_field", f"missing field {name!r}")
    value = record[name]
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise Rejected("not_a_string", f"{name!r} is not a string (got {kind})")
    if all(char.isspace() or is_invisible(char) for char in value):
        raise Rejected("empty_field", f"empty {name!r}" + (" (only invisible characters)" if value.strip() else ""))
    return value
