"""Entity scopes (GS CIM 009 clause 4.18) and the scope query language `scopeQ` (clause 4.19).

A scope is a path of levels, `/Wuhan/Donghu`. In a scope query a level may be `+` (any one
level), `/#` at the end means the scope and everything below it (`/#` alone: any scope), `;` is
AND (binds tighter), `|` or `,` is OR, and parentheses group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aicity.hub.twin.attrs import NULL
from aicity.hub.twin.errors import bad_data

_LEVEL = r"[^/#+,;|()\s]+"
_SCOPE = re.compile(rf"^(/{_LEVEL})+$")
MAX_LENGTH = 512
_TERM = re.compile(rf"/#|(?:/(?:{_LEVEL}|\+))+(?:/#)?")


def parse_scope(raw: Any) -> list[str]:
    """An entity's `scope` member (a string or an array of strings) as a list; [] for null (removal)."""
    if raw == NULL:
        return []
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, str) and len(v) <= MAX_LENGTH and _SCOPE.match(v) for v in values):
        raise bad_data(f"scope must be a path like /Wuhan/Donghu, or an array of them, not {raw!r}")
    return list(dict.fromkeys(values))


@dataclass(frozen=True)
class Term:
    """One scope pattern: its levels (`+` for any one) and whether levels below count too."""

    levels: tuple[str, ...]
    below: bool

    def matches(self, scope: str) -> bool:
        have = scope.split("/")[1:]
        if len(have) < len(self.levels) or (len(have) > len(self.levels) and not self.below):
            return False
        return all(want in ("+", got) for want, got in zip(self.levels, have, strict=False))

    @property
    def exact(self) -> bool:
        """Whether the literal path (or path prefix) says it all: no `+` level."""
        return "+" not in self.levels

    @property
    def literal(self) -> str:
        """The levels before the first `+`, as a path ('' for none)."""
        head = self.levels[:self.levels.index("+")] if "+" in self.levels else self.levels
        return "".join(f"/{level}" for level in head)


@dataclass(frozen=True)
class Op:
    """`and` or `or` over its parts."""

    kind: str
    parts: tuple[Node, ...]


Node = Term | Op


def matches(node: Node, scopes: list[str]) -> bool:
    """Whether an entity with these scopes is selected by the scope query."""
    if isinstance(node, Term):
        return any(node.matches(s) for s in scopes)
    test = all if node.kind == "and" else any
    return test(matches(part, scopes) for part in node.parts)


def terms(node: Node) -> list[Term]:
    return [node] if isinstance(node, Term) else [t for part in node.parts for t in terms(part)]


@dataclass
class _Parser:
    text: str
    pos: int = 0

    def parse(self) -> Node:
        node = self._or()
        if self.pos != len(self.text):
            raise bad_data(f"scopeQ: unexpected {self.text[self.pos:]!r}")
        return node

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _or(self) -> Node:
        parts = [self._and()]
        while self._peek() in ("|", ","):
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else Op("or", tuple(parts))

    def _and(self) -> Node:
        parts = [self._atom()]
        while self._peek() == ";":
            self.pos += 1
            parts.append(self._atom())
        return parts[0] if len(parts) == 1 else Op("and", tuple(parts))

    def _atom(self) -> Node:
        if self._peek() == "(":
            self.pos += 1
            inner = self._or()
            if self._peek() != ")":
                raise bad_data("scopeQ: missing )")
            self.pos += 1
            return inner
        match = _TERM.match(self.text, self.pos)
        if not match:
            raise bad_data(f"scopeQ: expected a scope like /Wuhan/Donghu, /Wuhan/+ or /Wuhan/# at "
                           f"{self.text[self.pos:]!r}")
        self.pos = match.end()
        path = match.group(0)
        below = path.endswith("/#")
        levels = tuple(path[:-2].split("/")[1:] if below else path.split("/")[1:])
        return Term(levels, below)


def parse_scope_q(text: str) -> Node:
    """The scope query as a tree; a malformed one raises BadRequestData."""
    if not text.strip():
        raise bad_data("scopeQ is empty")
    return _Parser(text.strip()).parse()
