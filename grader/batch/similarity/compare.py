"""The class-wide pass: every pair of fingerprinted submissions, code part by code part and weights file by
weights file; the flagged pairs with their evidence go to ``OUT/similarity.json`` and each row's
``similar_to``. Nothing is deducted: the evidence is for an instructor to read.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path

from grader.batch.gradebook import Row
from grader.batch.similarity import code, weights
from grader.batch.similarity.code import Print, Unit
from grader.batch.similarity.prints import read_prints, template_units
from grader.results import write_json
from grader.rubric import SimilarityConfig

SIMILARITY_FILE = "similarity.json"
SIMILARITY_SCHEMA = 1
CLOSEST_SHOWN = 5


@dataclass
class Part:
    """One part of one submission's code: its units and its fingerprints, the template's taken out."""

    units: list[Unit]
    prints: list[Print]
    hashes: set[int]


@dataclass
class Side:
    name: str
    parts: dict[str, Part]
    weights: list[dict]
    """Sketches of the weights files that loaded."""


def side_of(name: str, data: dict, template: set[int]) -> Side:
    parts = {}
    for part, found in data.get("code", {}).items():
        prints = [Print(*p) for p in found["prints"] if p[0] not in template]
        parts[part] = Part([Unit(u["label"], u["source"]) for u in found["units"]], prints, {p.hash for p in prints})
    return Side(name, parts, [w for w in data.get("weights", []) if w.get("tensors")])


def code_evidence(a: Side, b: Side, config: SimilarityConfig, closest: list) -> list[dict]:
    """A part is evidence when enough of the smaller side's fingerprints are in the other side's."""
    found = []
    for part in sorted(a.parts.keys() & b.parts.keys()):
        pa, pb = a.parts[part], b.parts[part]
        shared = pa.hashes & pb.hashes
        smaller = min(len(pa.hashes), len(pb.hashes))
        score = len(shared) / smaller if smaller else 0.0
        if score < config.code_min_score or len(shared) < config.code_min_shared:
            if shared:
                closest.append({"kind": "code", "part": part, "a": a.name, "b": b.name, "score": round(score, 3),
                                "shared": len(shared)})
            continue
        found.append({"kind": "code", "part": part, "score": round(score, 3), "shared": len(shared),
                      "prints_a": len(pa.hashes), "prints_b": len(pb.hashes),
                      "fragments": code.fragments(pa.units, pa.prints, pb.units, pb.prints, shared,
                                                  config.max_fragments)})
    return found


def weights_evidence(a: Side, b: Side, config: SimilarityConfig, closest: list) -> list[dict]:
    """The closest pair of weights files with the same parameter shapes, when close enough."""
    compared = [weights.compare(wa, wb) for wa in a.weights for wb in b.weights
                if weights.signature(wa) == weights.signature(wb)]
    best = min(compared, key=lambda e: e["distance"], default=None)
    if best is None:
        return []
    if best["distance"] > config.weights_max_distance:
        closest.append({"kind": "weights", "a": a.name, "b": b.name, "distance": best["distance"]})
        return []
    return [{**best, "files_compared": len(compared)}]


def closeness(pair: dict) -> float:
    """0 for the strongest evidence (identical weights, all code shared), up to 1."""
    return min(e["distance"] if e["kind"] == "weights" else 1 - e["score"] for e in pair["evidence"])


def load_sides(rows: list[Row], out: Path, config: SimilarityConfig) -> tuple[list[Side], list[dict]]:
    """The fingerprinted submissions, and the others with the reason they are left out."""
    template = code.template_hashes(template_units(), config.kgram)
    sides, left_out = [], []
    for row in sorted(rows, key=lambda r: r.name):
        data = read_prints(out / row.name)
        if data is None:
            left_out.append({"name": row.name, "why": "not fingerprinted (refused, or graded before this feature)"})
        elif data.get("problem"):
            left_out.append({"name": row.name, "why": data["problem"]})
        elif (data["kgram"], data["window"]) != (config.kgram, config.window):
            left_out.append({"name": row.name, "why": "fingerprinted with another kgram/window; grade it again"})
        else:
            sides.append(side_of(row.name, data, template))
            left_out += [{"name": row.name, "why": f"{w['file']}: {w['problem']}"} for w in data.get("weights", [])
                         if w.get("problem")]
    return sides, left_out


def compare_class(rows: list[Row], out: Path, config: SimilarityConfig) -> dict:
    """Compare every pair, fill ``row.similar_to``, write and return the similarity.json document."""
    sides, left_out = load_sides(rows, out, config) if config.enabled else ([], [])
    pairs, closest = [], []
    for a, b in combinations(sides, 2):
        evidence = code_evidence(a, b, config, closest) + weights_evidence(a, b, config, closest)
        if evidence:
            pairs.append({"a": a.name, "b": b.name, "kinds": sorted({e["kind"] for e in evidence}),
                          "evidence": evidence})
    pairs.sort(key=lambda p: (closeness(p), p["a"], p["b"]))
    partners: dict[str, set[str]] = {}
    for pair in pairs:
        partners.setdefault(pair["a"], set()).add(pair["b"])
        partners.setdefault(pair["b"], set()).add(pair["a"])
    for row in rows:
        row.similar_to = sorted(partners.get(row.name, ()))
    closest.sort(key=lambda c: c.get("distance", 1 - c.get("score", 0)))
    document = {"schema_version": SIMILARITY_SCHEMA, "config": asdict(config), "compared": [s.name for s in sides],
                "left_out": left_out, "pairs": pairs, "closest_unflagged": closest[:CLOSEST_SHOWN]}
    write_json(out / SIMILARITY_FILE, document)
    return document
