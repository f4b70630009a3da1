"""``python -m grader merge SHARD_DIRS... --out DIR``: one gradebook and index from sharded batches.

Each shard's ``manifest.json`` names its submissions; their ``<name>/batch.json`` markers are the
rows. Report folders are copied into DIR (unless DIR is that shard), the event logs are joined in
time order, and shards graded with different rubrics or grader code are refused: their scores
would not be comparable.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from rich.console import Console

from grader.batch.events import read_events
from grader.batch.gradebook import Row, read_marker
from grader.batch.run import write_outputs
from grader.results import publish_folder, write_atomic, write_json
from grader.rubric import SimilarityConfig

CONSISTENT_KEYS = ("grader_sha256", "rubric_sha256", "seed", "only")


class MergeError(Exception):
    """The shards cannot be merged; the message says which and why."""


def read_manifest(shard: Path) -> dict:
    try:
        return json.loads((shard / "manifest.json").read_text())
    except (OSError, ValueError):
        raise MergeError(f"{shard}: no manifest.json; give the --out folders of `python -m grader batch` runs") from None


def check_consistent(manifests: dict[Path, dict]) -> None:
    first_shard, first = next(iter(manifests.items()))
    for shard, manifest in manifests.items():
        for key in CONSISTENT_KEYS:
            if manifest.get(key) != first.get(key):
                raise MergeError(f"{shard} and {first_shard} differ in {key} ({manifest.get(key)!r} vs "
                                 f"{first.get(key)!r}): re-grade the shards with the same grader and rubric")


def collect_rows(manifests: dict[Path, dict]) -> tuple[dict[str, tuple[Path, Row]], list[str]]:
    """Every shard's rows by name, and notes on what is missing."""
    rows: dict[str, tuple[Path, Row]] = {}
    notes = []
    for shard, manifest in manifests.items():
        for name in manifest.get("names", []):
            row = read_marker(shard / name)
            if row is None:
                notes.append(f"{shard}: {name} has no result (the shard did not finish it)")
                continue
            if name in rows and rows[name][1].key != row.key:
                raise MergeError(f"{name} is in {rows[name][0]} and in {shard} with different content; "
                                 "shards must split one set of submissions")
            rows[name] = (shard, row)
    return rows, notes


def copy_report(source: Path, out: Path) -> None:
    """Copy one report folder into ``out`` atomically (skipped when it already is there)."""
    target = out / source.name
    if target.resolve() == source.resolve():
        return
    staging = Path(tempfile.mkdtemp(prefix=f".{source.name}.merge-", dir=out))
    shutil.rmtree(staging)
    shutil.copytree(source, staging)
    publish_folder(staging, target)


def join_events(shards: list[Path], out: Path) -> None:
    """All shards' events in time order, each tagged with its shard, once."""
    seen, events = set(), []
    for shard in shards:
        for event in read_events(shard / "events.jsonl"):
            event.setdefault("shard", str(shard))
            line = json.dumps(event, sort_keys=True)
            if line not in seen:
                seen.add(line)
                events.append(event)
    events.sort(key=lambda e: e.get("time", ""))
    write_atomic(out / "events.jsonl", "".join(json.dumps(e) + "\n" for e in events))


def main(*, shards: list[Path], out: Path, quiet: bool = False) -> int:
    console = Console(stderr=True, quiet=quiet)
    shards = [Path(s).resolve() for s in shards]
    out = Path(out).resolve()
    try:
        manifests = {shard: read_manifest(shard) for shard in shards}
        check_consistent(manifests)
        rows, notes = collect_rows(manifests)
    except MergeError as exc:
        console.print(f"[red]merge:[/] {exc}")
        return 2
    for note in notes:
        console.print(f"[yellow]merge:[/] {note}")
    out.mkdir(parents=True, exist_ok=True)
    for name, (shard, _) in sorted(rows.items()):
        copy_report(shard / name, out)
    join_events(shards, out)
    merged = [row for _, (_, row) in sorted(rows.items())]
    first = next(iter(manifests.values()))  # the shards share one rubric, so one [similarity] table
    write_outputs(merged, out, SimilarityConfig.from_dict(first.get("similarity", {})))
    write_json(out / "manifest.json", {**first, "shard": None, "names": [r.name for r in merged],
                                       "merged_from": [str(s) for s in shards]})
    console.print(f"merge: {len(merged)} submissions from {len(shards)} shards -> {out / 'gradebook.csv'}, "
                  f"{out / 'index.html'}")
    return 1 if notes else 0
