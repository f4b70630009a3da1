"""Code fingerprints as in MOSS: normalised tokens, k-gram hashes, winnowing; shared fragments of two sides.

A *unit* is one piece of code fingerprinted on its own (a module, or one notebook cell): k-grams
never cross units. Identifiers become one placeholder and literals another, comments and layout
are dropped, so renaming variables, reformatting or rewording comments changes no fingerprint;
reordering methods moves fingerprints but keeps them.
"""
from __future__ import annotations

import hashlib
import io
import keyword
import tokenize
from dataclasses import dataclass

from grader.submission.sources import without_magics

LAYOUT = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
          tokenize.ENDMARKER}
MAX_FRAGMENT_LINES = 40


@dataclass(frozen=True)
class Unit:
    """One piece of code: its label as the student knows it (``student/models.py``, ``2. ....ipynb, cell 5``)."""

    label: str
    source: str


@dataclass(frozen=True)
class Print:
    """One winnowed fingerprint: the k-gram's hash, its unit (index) and its lines (1-based, inclusive)."""

    hash: int
    unit: int
    first: int
    last: int


def normalised_tokens(source: str) -> list[tuple[str, int]]:
    """(token, line) with identifiers as ``V``, numbers as ``N``, strings as ``S``; keywords and operators
    kept. Code that stops tokenising (a bad indent, an open bracket) keeps the tokens before the fault."""
    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(without_magics(source)).readline):
            if tok.type in LAYOUT:
                continue
            if tok.type == tokenize.NAME:
                text = tok.string if keyword.iskeyword(tok.string) else "V"
            elif tok.type == tokenize.NUMBER:
                text = "N"
            elif tok.type == tokenize.STRING:
                text = "S"
            elif tok.type == tokenize.OP:
                text = tok.string
            else:
                continue
            found.append((text, tok.start[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def kgram_hash(tokens: list[str]) -> int:
    """A hash that is the same in every process (Python's ``hash`` of a str is salted per process)."""
    return int.from_bytes(hashlib.blake2b("\x1f".join(tokens).encode(), digest_size=8).digest(), "big") >> 1


def kgrams(source: str, k: int) -> list[tuple[int, int, int]]:
    """(hash, first line, last line) of every k-gram of normalised tokens."""
    tokens = normalised_tokens(source)
    texts = [t for t, _ in tokens]
    return [(kgram_hash(texts[i:i + k]), tokens[i][1], tokens[i + k - 1][1]) for i in range(len(tokens) - k + 1)]


def winnow(grams: list[tuple[int, int, int]], window: int) -> list[tuple[int, int, int]]:
    """The minimum hash of every window of ``window`` k-grams (the rightmost on ties), each position once:
    any match of at least ``k + window - 1`` tokens shares a fingerprint (Schleimer, Wilkerson, Aiken 2003)."""
    if len(grams) <= window:
        return [min(grams, key=lambda g: g[0])] if grams else []
    chosen, last = [], -1
    for start in range(len(grams) - window + 1):
        position = min(range(start, start + window), key=lambda i: (grams[i][0], -i))
        if position != last:
            chosen.append(grams[position])
            last = position
    return chosen


def fingerprints(units: list[Unit], k: int, window: int) -> list[Print]:
    return [Print(h, index, first, last) for index, unit in enumerate(units)
            for h, first, last in winnow(kgrams(unit.source, k), window)]


def template_hashes(units: list[Unit], k: int) -> set[int]:
    """Every k-gram of the course's starter code: a fingerprint among them is the template, not the student's."""
    return {h for unit in units for h, _, _ in kgrams(unit.source, k)}


@dataclass
class Run:
    """Shared fingerprints that follow each other on both sides: lines of a unit of A matching lines of B."""

    unit_a: int
    first_a: int
    last_a: int
    unit_b: int
    first_b: int
    last_b: int
    count: int = 1

    def extend(self, a: Print, b: Print) -> None:
        self.first_a, self.last_a = min(self.first_a, a.first), max(self.last_a, a.last)
        self.first_b, self.last_b = min(self.first_b, b.first), max(self.last_b, b.last)
        self.count += 1


def runs(prints_a: list[Print], prints_b: list[Print], shared: set[int], gap: int = 2) -> list[Run]:
    """A's shared fingerprints in order, chained while B's matching fingerprint stays near the run's lines
    in B too: a method moved elsewhere in B starts a run of its own."""
    where_b: dict[int, list[Print]] = {}
    for b in prints_b:
        if b.hash in shared:
            where_b.setdefault(b.hash, []).append(b)
    found: list[Run] = []
    for a in sorted((p for p in prints_a if p.hash in shared), key=lambda p: (p.unit, p.first, p.last)):
        run = found[-1] if found else None
        if run and run.unit_a == a.unit and a.first <= run.last_a + gap:
            near = [b for b in where_b[a.hash]
                    if b.unit == run.unit_b and run.first_b - gap <= b.first <= run.last_b + gap]
            if near:  # repeated code (a stack of similar layers): the copy on the run's diagonal
                expected = run.first_b + a.first - run.first_a
                run.extend(a, min(near, key=lambda b: abs(b.first - expected)))
                continue
        b = where_b[a.hash][0]
        found.append(Run(a.unit, a.first, a.last, b.unit, b.first, b.last))
    return found


def excerpt(unit: Unit, first: int, last: int) -> dict:
    lines = unit.source.splitlines()[first - 1:last]
    cut = len(lines) > MAX_FRAGMENT_LINES
    text = "\n".join(lines[:MAX_FRAGMENT_LINES]) + ("\n..." if cut else "")
    return {"unit": unit.label, "first_line": first, "last_line": last, "text": text}


def fragments(units_a: list[Unit], prints_a: list[Print], units_b: list[Unit], prints_b: list[Print],
              shared: set[int], most: int) -> list[dict]:
    """The matching code, side by side: the longest runs of shared fingerprints first."""
    found = runs(prints_a, prints_b, shared)
    longer = [r for r in found if r.count > 1] or found  # a lone shared k-gram is mostly a method's edge
    chosen = sorted(longer, key=lambda r: -r.count)[:most]
    return [{"shared": r.count, "a": excerpt(units_a[r.unit_a], r.first_a, r.last_a),
             "b": excerpt(units_b[r.unit_b], r.first_b, r.last_b)} for r in chosen]
