"""The rubric TOML -> one frozen config object; check outcomes -> points."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

DEFAULT_RUBRIC = Path(__file__).with_name("rubric.toml")


@dataclass(frozen=True)
class CheckConfig:
    """One check's entry in the rubric."""

    id: str
    points: float
    params: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, key: str):
        return self.params[key]

    def get(self, key: str, default=None):
        return self.params.get(key, default)


@dataclass(frozen=True)
class SimilarityConfig:
    """The rubric's ``[similarity]`` table: how a batch looks for copied work (docs/batch.md). Nothing is
    deducted: these thresholds only decide which pairs the index page shows an instructor."""

    enabled: bool = True
    kgram: int = 12
    """Tokens per k-gram of normalised code (identifiers and literals are placeholders)."""
    window: int = 8
    """Winnowing window: any run of kgram + window - 1 shared tokens yields a shared fingerprint."""
    code_min_score: float = 0.5
    """Flag when this share of the smaller side's fingerprints (template code taken out) is in the other."""
    code_min_shared: int = 10
    """... and at least this many fingerprints are shared (tiny files are not evidence)."""
    weights_max_distance: float = 0.2
    """Flag two weights files whose parameters differ by at most this relative L2 distance."""
    weights_max_mb: float = 512.0
    """Weights files larger than this are not loaded (nor compared)."""
    weights_sample: int = 1024
    """Values kept per tensor for the comparison (a fixed sample; exact for smaller tensors)."""
    weights_max_files: int = 4
    """Weights files per submission compared (the one the grader chose first)."""
    max_fragments: int = 6
    """Matching code fragments shown per pair and part."""

    @classmethod
    def from_dict(cls, table: dict) -> "SimilarityConfig":
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ValueError(f"rubric [similarity]: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
        defaults = cls()
        return cls(**{k: type(getattr(defaults, k))(v) for k, v in table.items()})


@dataclass(frozen=True)
class Rubric:
    """Which checks run, in order, with their points and thresholds."""

    path: Path
    seed: int
    memory_mb: int
    probe_timeout_s: float
    threads: int
    checks: tuple[CheckConfig, ...]
    digest: str  # sha256 of the rubric file: part of the resume key of a batch
    similarity: SimilarityConfig = field(default_factory=SimilarityConfig)
    disk_mb: int = 2048  # what one student process may leave in its working folder and TMPDIR

    def check(self, check_id: str) -> CheckConfig | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)


def load_rubric(path: Path | None = None, *, only: set[str] | None = None) -> Rubric:
    """Read a rubric; ``only`` keeps a subset of checks (e.g. for quick runs)."""
    path = Path(path or DEFAULT_RUBRIC)
    raw = path.read_bytes()
    data = tomllib.loads(raw.decode())
    sandbox = data.get("sandbox", {})
    checks = []
    for check_id, entry in data.get("checks", {}).items():
        entry = dict(entry)
        if not entry.pop("enabled", True) or (only is not None and check_id not in only):
            continue
        checks.append(CheckConfig(check_id, float(entry.pop("points", 0)), MappingProxyType(entry)))
    return Rubric(path, int(data.get("seed", 0)), int(sandbox.get("memory_mb", 6144)),
                  float(sandbox.get("probe_timeout_s", 120)), int(sandbox.get("threads", 1)), tuple(checks),
                  hashlib.sha256(raw).hexdigest(), SimilarityConfig.from_dict(data.get("similarity", {})),
                  int(sandbox.get("disk_mb", 2048)))


def linear_fraction(value: float, zero_at: float, full_at: float) -> float:
    """1 at or below ``full_at``, 0 at or above ``zero_at``, linear between (lower is better)."""
    if value <= full_at:
        return 1.0
    if value >= zero_at:
        return 0.0
    return (zero_at - value) / (zero_at - full_at)
