"""Evidence of copied work across a class: code fingerprints, weights sketches, the class pass, the index page.

The fast tests fingerprint the eight submissions of ``similarity_class`` directly (no grading); the
slow one grades them with ``python -m grader batch`` processes and a two-check rubric.
"""
from __future__ import annotations

import json
import pathlib
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import similarity_class
import torch
from grading import DATA, ROOT
from similarity_class import EXPECTED_PAIRS

from grader.batch import merge
from grader.batch import run as batch
from grader.batch.gradebook import Row, gradebook_csv, write_marker
from grader.batch.similarity import code, weights
from grader.batch.similarity.compare import SIMILARITY_FILE, compare_class
from grader.batch.similarity.prints import PRINTS_FILE, fingerprint_submission, template_units
from grader.report import index
from grader.results import write_json
from grader.rubric import SimilarityConfig, load_rubric

RUBRIC = ROOT / "tests" / "rubrics" / "similarity.toml"
CONFIG = SimilarityConfig()


def fingerprint_class(subs: Path, out: Path, config: SimilarityConfig = CONFIG) -> list[Row]:
    """What a batch leaves before its class pass: each submission's fingerprints beside its (empty) report."""
    rows = []
    for sub in sorted(subs.iterdir()):
        (out / sub.name).mkdir(parents=True)
        write_json(out / sub.name / PRINTS_FILE, fingerprint_submission(sub, config))
        rows.append(Row(sub.name, "graded"))
    return rows


def flagged(document: dict) -> set[tuple[str, str]]:
    return {(p["a"], p["b"]) for p in document["pairs"]}


def evidence(document: dict, a: str, b: str, kind: str) -> dict:
    pair = next(p for p in document["pairs"] if (p["a"], p["b"]) == (a, b))
    return next(e for e in pair["evidence"] if e["kind"] == kind)


@pytest.fixture(scope="module")
def class_pass(tmp_path_factory):
    """(submissions, out, rows, similarity.json) of the eight fixtures, fingerprinted and compared."""
    root = tmp_path_factory.mktemp("similar")
    subs = similarity_class.build_class(root)
    rows = fingerprint_class(subs, root / "out")
    started = time.monotonic()
    document = compare_class(rows, root / "out", CONFIG)
    print(f"class pass over {len(rows)} submissions: {time.monotonic() - started:.2f} s")
    return subs, root / "out", rows, document


# -- code fingerprints ----------------------------------------------------------------------------
def test_renamed_reformatted_and_recommented_code_has_the_same_tokens():
    first = "def area(width, height):\n    # the rectangle's area\n    return width * height + 1\n"
    second = "def surface(w,h):  # renamed\n\n    return (w) * h + 2.5\n"
    assert [t for t, _ in code.normalised_tokens(first)] == \
        ["def", "V", "(", "V", ",", "V", ")", ":", "return", "V", "*", "V", "+", "N"]
    assert [t for t, _ in code.normalised_tokens(second)] != [t for t, _ in code.normalised_tokens(first)]  # (w)
    broken = "x = [1, 2,\n%matplotlib inline\n"
    assert [t for t, _ in code.normalised_tokens(broken)][:3] == ["V", "=", "["]  # the tokens before the fault


def test_a_long_enough_match_always_shares_a_fingerprint():
    k, window = 5, 4
    common = "\n".join(f"v{i} = f(v{i - 1}, {i}) + g[{i}]" for i in range(1, 9))  # 8 x 11 tokens
    a = "import os\nprint(os.sep)\n" + common + "\nreturn_value = None\n"
    b = "class A:\n    pass\n\n\nfor item in range(3):\n    print(item)\n" + common.replace("v", "w") + "\n"
    prints_a = code.fingerprints([code.Unit("a", a)], k, window)
    prints_b = code.fingerprints([code.Unit("b", b)], k, window)
    shared = {p.hash for p in prints_a} & {p.hash for p in prints_b}
    assert shared
    runs = code.fragments([code.Unit("a", a)], prints_a, [code.Unit("b", b)], prints_b, shared, most=3)
    assert "v4 = f(v3, 4)" in runs[0]["a"]["text"] and "w4 = f(w3, 4)" in runs[0]["b"]["text"]


def test_the_course_starter_is_template_code():
    units = template_units()
    labels = [u.label for u in units]
    assert "student/models.py" in labels and "student/data_load.py" in labels
    assert any(label.startswith("notebooks/2. Define the Network Architecture.ipynb, cell") for label in labels)
    models = [u for u in units if u.label == "student/models.py"]
    starter_prints = code.fingerprints(models, CONFIG.kgram, CONFIG.window)
    assert starter_prints and {p.hash for p in starter_prints} <= code.template_hashes(units, CONFIG.kgram)


# -- the rubric's [similarity] table ------------------------------------------------------------------
def test_thresholds_come_from_the_rubric_with_defaults_in_code(tmp_path):
    assert load_rubric().similarity == SimilarityConfig()
    assert load_rubric(RUBRIC).similarity.weights_max_mb == 64
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[checks."model.import"]\npoints = 1\n[similarity]\ncode_min_score = 0.8\nenabled = false\n')
    assert load_rubric(rubric).similarity == SimilarityConfig(enabled=False, code_min_score=0.8)
    rubric.write_text("[similarity]\ncode_threshold = 0.8\n")
    with pytest.raises(ValueError, match="unknown key.*code_threshold"):
        load_rubric(rubric)


# -- the class pass on the eight fixtures (no grading) ------------------------------------------------
def test_exactly_the_planted_pairs_are_flagged(class_pass):
    subs, out, rows, document = class_pass
    assert flagged(document) == EXPECTED_PAIRS
    assert {p["a"]: p["kinds"] for p in document["pairs"] if p["b"] == "charlie"} == {"alpha": ["weights"],
                                                                                    "bravo": ["weights"]}
    assert evidence(document, "delta", "echo", "code")["part"] == "models"
    assert document["compared"] == sorted(p.name for p in subs.iterdir()) and document["left_out"] == []
    assert json.loads((out / SIMILARITY_FILE).read_text()) == document
    partners = {row.name: row.similar_to for row in rows}
    assert partners == {"alpha": ["bravo", "charlie"], "bravo": ["alpha", "charlie"], "charlie": ["alpha", "bravo"],
                        "delta": ["echo"], "echo": ["delta"], "foxtrot": [], "starter_1": [], "starter_2": []}


def test_weights_evidence_names_the_files_and_each_tensors_distance(class_pass):
    _, _, _, document = class_pass
    renamed = evidence(document, "alpha", "bravo", "weights")
    assert (renamed["a_file"], renamed["b_file"]) == ("student/saved_models/keypoints_model.pt",
                                                      "student/saved_models/my_final_model.pth")
    assert renamed["distance"] == 0 and renamed["identical_tensors"] == len(renamed["tensors"]) == 6
    tuned = evidence(document, "alpha", "charlie", "weights")
    assert 0 < tuned["distance"] < CONFIG.weights_max_distance and tuned["identical_tensors"] == 0
    assert [(t["a"], t["b"], t["shape"]) for t in tuned["tensors"]][:2] == [
        ("conv1.weight", "features.0.weight", [8, 1, 5, 5]), ("conv1.bias", "features.0.bias", [8])]
    # conv2 (1152 values) and fc (34816) are compared on a sample of 1024 values; the others whole
    assert [t["sampled"] for t in tuned["tensors"]] == [False, False, True, False, True, False]


def test_same_shapes_trained_independently_are_far_apart(class_pass):
    _, out, _, _ = class_pass
    alpha, foxtrot = (json.loads((out / name / PRINTS_FILE).read_text())["weights"][0] for name in ("alpha", "foxtrot"))
    assert weights.signature(alpha) == weights.signature(foxtrot)  # compared ...
    assert weights.compare(alpha, foxtrot)["distance"] > 1  # ... and far apart (sqrt 2 for independent draws)


def test_code_evidence_shows_the_renamed_and_reordered_fragments(class_pass):
    _, _, _, document = class_pass
    found = evidence(document, "delta", "echo", "code")
    assert found["score"] >= 0.9 and found["shared"] >= CONFIG.code_min_shared
    sides = [(f["a"]["unit"], f["b"]["unit"]) for f in found["fragments"]]
    assert set(sides) == {("student/models.py", "models.py")}  # the two layouts' models role
    def fragment(delta_name: str, echo_name: str) -> dict:
        return next(f for f in found["fragments"] if f"def {delta_name}(" in f["a"]["text"]
                    and f"def {echo_name}(" in f["b"]["text"])

    make, run = fragment("make_stage", "_level"), fragment("run_stage", "_apply_level")
    # reordered: make_stage comes before run_stage in delta, after it in echo; each shown at its own place
    assert make["a"]["first_line"] < run["a"]["first_line"] and make["b"]["first_line"] > run["b"]["first_line"]


def test_untouched_starters_and_independent_work_are_not_flagged(class_pass):
    subs, out, _, document = class_pass
    starter_prints = json.loads((out / "starter_1" / PRINTS_FILE).read_text())
    assert starter_prints["code"]["models"]["prints"] and len(starter_prints["code"]["notebooks"]["units"]) > 10
    assert not {pair for pair in flagged(document) if {"starter_1", "starter_2", "foxtrot"} & set(pair)}
    for close in document["closest_unflagged"]:
        assert close.get("score", 0) < CONFIG.code_min_score or close["shared"] < CONFIG.code_min_shared


def test_weights_that_must_not_be_unpickled_are_left_out(tmp_path):
    marker = tmp_path / "unpickled"

    class Trap:
        def __reduce__(self):
            return pathlib.Path.touch, (marker,)

    sub = tmp_path / "sub"
    shutil.copytree(ROOT / "student", sub / "student", ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    folder = sub / "student" / "saved_models"
    torch.save({"conv1.weight": torch.ones(3), "hook": Trap()}, folder / "keypoints_model.pt")
    torch.save(torch.ones(3), folder / "a_tensor.pt")
    (folder / "big.pt").write_bytes(b"\0" * (2 << 20))
    (folder / "garbage.pth").write_bytes(b"not a torch file")
    prints = fingerprint_submission(sub, SimilarityConfig(weights_max_mb=1, weights_max_files=10))
    problems = {w["file"].rsplit("/", 1)[1]: w.get("problem", "") for w in prints["weights"]}
    assert not marker.exists(), "a weights file was unpickled with arbitrary objects"
    assert "weights_only=True" in problems["keypoints_model.pt"] and "weights_only=True" in problems["garbage.pth"]
    assert "more than the 1 MB" in problems["big.pt"] and "not a state_dict" in problems["a_tensor.pt"]


def test_copied_notebook_code_is_flagged_and_the_starter_notebooks_are_not(tmp_path):
    cell_a = ("def evaluate_crops(loader, model, rounds=3):\n    totals = []\n    for _ in range(rounds):\n"
              "        for batch in loader:\n            pred = model(batch['image'].float())\n"
              "            totals.append(((pred - batch['keypoints'].view(len(pred), -1)) ** 2).mean().item())\n"
              "    return sum(totals) / max(len(totals), 1), min(totals), max(totals)\n")
    cell_b = cell_a.replace("totals", "errs").replace("rounds", "repeat").replace("pred", "out")
    subs = tmp_path / "subs"
    for name, extra in (("ann", cell_a), ("ben", cell_b), ("cat", None), ("dan", None)):
        similarity_class.starter(subs / name)
        if extra:
            path = subs / name / "notebooks" / "2. Define the Network Architecture.ipynb"
            notebook = json.loads(path.read_text())
            notebook["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                                      "source": extra.splitlines(keepends=True)})
            path.write_text(json.dumps(notebook))
    document = compare_class(fingerprint_class(subs, tmp_path / "out"), tmp_path / "out", CONFIG)
    assert flagged(document) == {("ann", "ben")}
    found = evidence(document, "ann", "ben", "code")
    assert found["part"] == "notebooks" and found["score"] == 1.0
    assert found["fragments"][0]["a"]["unit"].startswith("notebooks/2. Define the Network Architecture.ipynb, cell")


def test_turned_off_it_compares_nothing(class_pass, tmp_path):
    subs, out, _, _ = class_pass
    rows = [Row(p.name, "graded") for p in sorted(subs.iterdir())]
    shutil.copytree(out, tmp_path / "out")
    document = compare_class(rows, tmp_path / "out", SimilarityConfig(enabled=False))
    assert document["pairs"] == [] and all(not row.similar_to for row in rows)


def test_merged_shards_compare_the_whole_class(class_pass, tmp_path):
    subs, out, _, _ = class_pass
    names = sorted(p.name for p in subs.iterdir())
    shards = []
    for index_, part in enumerate((names[0::2], names[1::2])):  # alpha and bravo land in different shards
        shard = tmp_path / f"shard-{index_}"
        for name in part:
            shutil.copytree(out / name, shard / name)
            write_marker(shard / name, Row(name, "graded", score=1, max_score=1, key={"source_sha256": name}))
        write_json(shard / "manifest.json", {"schema_version": 1, "names": part, "grader_sha256": "g",
                                             "rubric_sha256": "r", "seed": 0, "only": None,
                                             "similarity": {"code_min_shared": 10}})
        shards.append(shard)
    assert merge.main(shards=shards, out=tmp_path / "merged", quiet=True) == 0
    assert flagged(json.loads((tmp_path / "merged" / SIMILARITY_FILE).read_text())) == EXPECTED_PAIRS
    assert "alpha,graded" in (tmp_path / "merged" / "gradebook.csv").read_text()


# -- gradebook and index page -------------------------------------------------------------------------
class PairsPage(HTMLParser):
    """The flagged pairs of an index page: {(a, b): {"kinds": [...], "a": [pre texts], "b": [pre texts]}}."""

    def __init__(self):
        super().__init__()
        self.pairs: dict[tuple[str, str], dict] = {}
        self.pair = self.side = None
        self.in_pre = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article" and "pair" in attrs.get("class", ""):
            self.pair = (attrs["data-a"], attrs["data-b"])
            self.pairs[self.pair] = {"kinds": [], "a": [], "b": []}
        elif self.pair and tag == "div" and attrs.get("data-kind"):
            self.pairs[self.pair]["kinds"].append(attrs["data-kind"])
        elif self.pair and tag == "div" and attrs.get("data-side"):
            self.side = attrs["data-side"]
        elif self.pair and self.side and tag == "pre":
            self.in_pre = True
            self.pairs[self.pair][self.side].append("")

    def handle_endtag(self, tag):
        if tag == "pre":
            self.in_pre = False
        elif tag == "article":
            self.pair = self.side = None

    def handle_data(self, data):
        if self.in_pre:
            self.pairs[self.pair][self.side][-1] += data


def test_index_shows_each_flagged_pair_side_by_side_and_the_gradebook_names_partners(class_pass):
    _, _, rows, document = class_pass
    page = index.render(rows, document)
    parser = PairsPage()
    parser.feed(page)
    assert set(parser.pairs) == EXPECTED_PAIRS
    delta_echo = parser.pairs[("delta", "echo")]
    assert delta_echo["kinds"] == ["code"] and len(delta_echo["a"]) == len(delta_echo["b"]) >= 1
    assert any("run_stage" in a and "_apply_level" in b for a, b in zip(delta_echo["a"], delta_echo["b"]))
    assert parser.pairs[("alpha", "bravo")]["kinds"] == ["weights"] and "features.0.weight" in page
    assert 'href="#pair-delta--echo"' in page
    lines = {line.split(",")[0]: line for line in gradebook_csv(rows).splitlines()}
    assert lines["name"].endswith(",duplicate_of,similar_to,reason")
    assert lines["alpha"].endswith(",bravo;charlie,") and lines["starter_1"].endswith(",,")


# -- the whole batch, with real grading processes (slow) ----------------------------------------------
@pytest.mark.slow
def test_batch_flags_the_planted_pairs_and_deducts_nothing(tmp_path, dataset_dir):
    subs = similarity_class.build_class(tmp_path)
    started = time.monotonic()
    code_ = batch.main(submissions=subs, out=tmp_path / "out", jobs=1, timeout=300, rubric=RUBRIC, data_dir=DATA,
                       device="cpu", quiet=True)
    seconds = time.monotonic() - started
    assert code_ == 0
    out = tmp_path / "out"
    document = json.loads((out / SIMILARITY_FILE).read_text())
    assert flagged(document) == EXPECTED_PAIRS
    book = gradebook_csv([]).splitlines()[0]  # the header
    lines = (out / "gradebook.csv").read_text().splitlines()
    assert lines[0] == book.replace("duplicate_of", "model.import,model.construct,duplicate_of")
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert all(r[1] == "graded" and r[2] == "10.0" for r in rows.values()), rows  # full marks: no deduction
    assert rows["starter_1"][-3:] == ["starter_2", "", ""]  # byte-identical starters: duplicates, not similar work
    assert rows["echo"][-2] == "delta" and rows["charlie"][-2] == "alpha;bravo"
    parser = PairsPage()
    parser.feed((out / "index.html").read_text())
    assert set(parser.pairs) == EXPECTED_PAIRS
    assert json.loads((out / "manifest.json").read_text())["similarity"]["weights_max_mb"] == 64
    print(f"batch of {len(rows)} with similarity: {seconds:.0f} s; flagged: " + "; ".join(
        f"{p['a']}~{p['b']} " + ", ".join(f"{e['kind']} " + (f"distance {e['distance']:.4f}" if e["kind"] == "weights"
                                                           else f"{e['part']} score {e['score']:.2f}")
                                          for e in p["evidence"]) for p in document["pairs"]))
