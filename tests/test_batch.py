"""Batch grading with real processes: intake safety, isolation, the class batch, resume, shards, Dask, index.html.

The class batch grades ten fixture submissions once (module fixture) with a short rubric
(tests/rubrics/batch.toml); the slow tests compare against it.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import browser
import pytest
from grading import DATA, ROOT, SUBMISSIONS, without_timings

from grader import grade
from grader.batch import intake, isolate, merge
from grader.batch import run as batch
from grader.batch.events import read_events
from grader.batch.gradebook import Row, gradebook_csv, mark_duplicates
from grader.report import index

RUBRIC = ROOT / "tests" / "rubrics" / "batch.toml"
WALL_TIMEOUT = 90.0  # per submission; a trained submission grades in well under a minute here
MODEL_ONLY = {"model.import", "model.construct", "model.output_shape"}
EXPECTED_STATUS = {"small_trained": "graded", "twin_a": "graded", "twin_b": "graded", "starter": "graded",
                   "hangs_at_import": "graded", "memory_hog": "graded", "hangs_on_test_set": "timeout",
                   "not_a_submission": "error", "zip_slip": "error", "corrupt": "error"}


# -- building submissions ---------------------------------------------------------------------------
def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                handle.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def zip_with(archive: Path, members: dict[str, str], symlink: tuple[str, str] | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as handle:
        for name, text in members.items():
            handle.writestr(name, text)
        if symlink:
            info = zipfile.ZipInfo(symlink[0])
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            handle.writestr(info, symlink[1])
    return archive


def copy_fixture(name: str, to: Path, as_name: str | None = None) -> Path:
    target = to / (as_name or name)
    shutil.copytree(SUBMISSIONS / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def starter(to: Path) -> Path:
    shutil.copytree(ROOT / "student", to / "starter" / "student", ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    return to / "starter"


def class_folder(to: Path) -> Path:
    """Ten submissions, one per outcome a batch must keep apart."""
    subs = to / "submissions"
    subs.mkdir()
    copy_fixture("small_trained", subs)
    copy_fixture("small_trained", subs, "twin_a")
    zip_folder(SUBMISSIONS / "small_trained", subs / "twin_b.zip", prefix="twin_b/")  # wrapped in one folder
    starter(subs)
    for outcome in ("hangs_at_import", "memory_hog", "not_a_submission"):
        copy_fixture(outcome, subs)
    hangs = copy_fixture("small_trained", subs, "hangs_on_test_set")  # the trained net, with a forward that hangs
    (hangs / "student" / "models.py").rename(hangs / "student" / "trained_models.py")
    shutil.copy2(SUBMISSIONS / "hangs_on_test_set" / "student" / "models.py", hangs / "student" / "models.py")
    zip_with(subs / "zip_slip.zip", {"student/models.py": "import torch\n", "../../escaped.py": "print('out')\n"})
    (subs / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip file")
    return subs


def read_gradebook(path: Path) -> dict[str, dict]:
    with open(path, newline="") as handle:
        return {row["name"]: row for row in csv.DictReader(handle)}


def processes_mentioning(text: str) -> list[int]:
    """Live processes with ``text`` in their command line."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and text in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace") \
                    and alive(int(entry)):
                found.append(int(entry))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


# -- intake: archives, folders, names, shards (fast) ------------------------------------------------
@pytest.mark.parametrize("members, symlink, words", [
    ({"student/models.py": "x", "../evil.py": "x"}, None, "zip slip"),
    ({"student/models.py": "x", "/tmp/evil.py": "x"}, None, "absolute path"),
    ({"student/models.py": "x"}, ("student/data_load.py", "/etc/passwd"), "symbolic link"),
])
def test_unsafe_zip_is_refused_with_nothing_extracted(tmp_path, members, symlink, words):
    archive = zip_with(tmp_path / "bad.zip", members, symlink)
    dest = tmp_path / "out" / "inside"
    with pytest.raises(intake.UnsafeSubmission, match=words):
        intake.extract_zip(archive, dest)
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.py").exists()


def test_zip_bomb_is_refused_by_its_declared_size(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("student/models.py", b"\0" * (3 << 20))
    with pytest.raises(intake.UnsafeSubmission, match="more than 2 MB"):
        intake.extract_zip(archive, tmp_path / "dest", max_mb=2)


def test_folder_with_a_named_pipe_or_escaping_link_is_refused(tmp_path):
    sub = copy_fixture("raises_in_forward", tmp_path)
    os.mkfifo(sub / "student" / "pipe")
    with pytest.raises(intake.UnsafeSubmission, match="special file"):
        intake.prepare(intake.Entry("raises_in_forward", sub, "folder"), tmp_path / "scratch")
    (sub / "student" / "pipe").unlink()
    (sub / "student" / "labels.csv").symlink_to(DATA / "test_frames_keypoints.csv")
    with pytest.raises(intake.UnsafeSubmission, match="outside the submission"):
        intake.prepare(intake.Entry("raises_in_forward", sub, "folder"), tmp_path / "scratch")


def test_entries_names_and_shards(tmp_path):
    for name in ("carol", "alice", "bob", "dave", "erin"):
        (tmp_path / name).mkdir()
    zip_with(tmp_path / "frank.zip", {"models.py": ""})
    zip_with(tmp_path / "alice.zip", {"models.py": ""})
    (tmp_path / "notes.txt").write_text("not a submission")
    (tmp_path / ".hidden").mkdir()
    entries, notes = intake.list_entries(tmp_path)
    assert [e.name for e in entries] == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert entries[0].kind == "folder" and entries[-1].kind == "zip"
    assert any("alice.zip" in n and "taken" in n for n in notes) and any("notes.txt" in n for n in notes)
    shards = [[e.name for e in intake.select_shard(list(reversed(entries)), f"{i}/3")] for i in (1, 2, 3)]
    assert shards == [["alice", "dave"], ["bob", "erin"], ["carol", "frank"]]
    for bad in ("0/3", "4/3", "1-3", "x"):
        with pytest.raises(ValueError):
            intake.select_shard(entries, bad)


def test_identical_content_hashes_equal_whatever_the_wrapping(tmp_path):
    folder = copy_fixture("raises_in_forward", tmp_path)
    archive = zip_folder(folder, tmp_path / "wrapped.zip", prefix="someone/")
    root = intake.prepare(intake.Entry("wrapped", archive, "zip"), tmp_path / "scratch")
    assert root.name == "someone"
    assert intake.content_sha256(root) == intake.content_sha256(folder)


# -- isolation: timeouts, process trees, memory, docker (fast) --------------------------------------
def test_wall_timeout_kills_the_whole_tree_including_new_sessions(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    grandchild = (f"import os, time; os.setsid(); open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
                  "time.sleep(300)")
    parent = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {grandchild!r}]); time.sleep(300)"
    code, timed_out, seconds = isolate.run_limited([sys.executable, "-c", parent], log_path=tmp_path / "log",
                                                   timeout_s=3, memory_mb=None)
    assert timed_out and code == -signal.SIGKILL and seconds < 30
    deadline = time.monotonic() + 10
    while alive(int(pid_file.read_text())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(int(pid_file.read_text())), "the grandchild in its own session survived the timeout"


def test_memory_limit_of_the_grading_process_becomes_an_error_row(tmp_path, dataset_dir):
    subs = tmp_path / "submissions"
    copy_fixture("raises_in_forward", subs)
    code = batch.main(submissions=subs, out=tmp_path / "out", memory_mb=150, only=MODEL_ONLY, data_dir=dataset_dir,
                      device="cpu", quiet=True)
    assert code == 0
    row = read_gradebook(tmp_path / "out" / "gradebook.csv")["raises_in_forward"]
    assert row["status"] == "error" and "memory" in row["reason"], row
    assert "150 MB" in row["reason"]
    assert (tmp_path / "out" / "raises_in_forward" / "grade.log").is_file()
    assert json.loads((tmp_path / "out" / "raises_in_forward" / "results.json").read_text())["score"] == 0


def test_docker_command_line(tmp_path):
    settings = isolate.GradeSettings(DATA.resolve(), rubric=RUBRIC, seed=3, only=("model.import",), device="cpu",
                                     memory_mb=4096, docker_image="fkp-grader:abc123")
    argv = isolate.docker_command(settings, "alice", tmp_path / "alice", tmp_path / "out", "fkp-alice-1")
    line = " ".join(argv)
    assert argv[:3] == ["docker", "run", "--rm"]
    for part in ("--network none", "--read-only", "--tmpfs /tmp", "--memory=4096m", "--name fkp-alice-1",
                 f"{tmp_path / 'alice'}:/submission:ro", f"{tmp_path / 'out'}:/grader-out/reports",
                 ":/grader-secrets/test_frames_keypoints.csv:ro", f"{RUBRIC}:/rubric.toml:ro"):
        assert part in line, part
    tail = argv[argv.index("fkp-grader:abc123") + 1:]
    assert tail[:4] == ["grade", "/submission", "--out", "/grader-out/reports"]
    assert f"FKP_REPORT_OWNER={os.getuid()}:{os.getgid()}" in argv
    assert "--rubric" in tail and tail[tail.index("--rubric") + 1] == "/rubric.toml"
    assert tail[tail.index("--only") + 1] == "model.import" and tail[tail.index("--seed") + 1] == "3"


def test_docker_without_an_image_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("FKP_DOCKER_IMAGE", raising=False)
    assert batch.main(submissions=tmp_path, out=tmp_path / "out", docker=True, quiet=True) == 2


# -- gradebook, index, merge from rows (fast) -----------------------------------------------------
def synthetic_rows() -> list[Row]:
    return [Row("ann", "graded", score=40, max_score=50, nme=0.07, checks={"a": 10, "b": 30},
                check_status={"a": "passed", "b": "partial"}, content_sha256="h1"),
            Row("ben", "graded", score=10, max_score=50, nme=0.2, checks={"a": 10, "b": 0},
                check_status={"a": "passed", "b": "failed"}, content_sha256="h1"),
            Row("cy", "timeout", reason="grading took longer than 5 s", max_score=50, content_sha256="h2")]


def test_gradebook_columns_duplicates_and_index(tmp_path):
    rows = synthetic_rows()
    mark_duplicates(rows)
    lines = gradebook_csv(rows).splitlines()
    assert lines[0] == "name,status,score,max_score,nme,a,b,duplicate_of,similar_to,reason"
    assert lines[1] == "ann,graded,40,50,0.07,10,30,ben,,"
    assert lines[3] == "cy,timeout,,50,,,,,,grading took longer than 5 s"
    page = index.render(rows)
    assert page.count('<tr data-name="') == 3 and "ann/report.html" in page and "cy/grade.log" in page
    assert [r.rate for r in index.pass_rates(rows)] == [1.0, 0.0]
    assert [b["count"] for b in index.histogram(rows)] == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0]


# -- the class batch (slow) -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def class_batch(tmp_path_factory):
    """(submissions folder, out folder, seconds) of one local batch of the ten outcomes, --jobs 2."""
    root = tmp_path_factory.mktemp("class")
    subs = class_folder(root)
    started = time.monotonic()
    code = batch.main(submissions=subs, out=root / "out", jobs=2, timeout=WALL_TIMEOUT, rubric=RUBRIC,
                      data_dir=DATA, device="cpu", quiet=True)
    assert code == 0
    return subs, root / "out", time.monotonic() - started


@pytest.mark.slow
def test_every_row_gets_its_own_status(class_batch):
    subs, out, seconds = class_batch
    book = read_gradebook(out / "gradebook.csv")
    assert {name: row["status"] for name, row in book.items()} == EXPECTED_STATUS
    checks = {name: json.loads((out / name / "batch.json").read_text())["check_status"] for name in book}
    assert all(checks["small_trained"][c] == "passed" for c in ("model.output_shape", "weights.load"))
    assert checks["small_trained"]["evaluation.test_set"] in ("passed", "partial", "failed")  # it was scored
    assert checks["hangs_at_import"]["model.import"] == "timeout"  # the grader's own probe timeout
    assert checks["memory_hog"]["model.import"] == "error"
    assert checks["starter"]["model.output_shape"] in ("failed", "error")
    assert "wall timeout" in book["hangs_on_test_set"]["reason"]
    assert "zip slip" in book["zip_slip"]["reason"] and "not a readable zip" in book["corrupt"]["reason"]
    assert "no student/models.py" in book["not_a_submission"]["reason"]
    assert not list(subs.parent.rglob("escaped.py")), "the zip slip member was written somewhere"
    assert book["small_trained"]["duplicate_of"] == "twin_a;twin_b" and book["twin_b"]["duplicate_of"] == "small_trained;twin_a"
    assert 0 < float(book["small_trained"]["nme"]) < 0.5 and book["starter"]["nme"] == ""
    assert not (out / ".batch-work").exists(), "scratch folders were left behind"
    print(f"class batch of {len(book)} submissions with --jobs 2: {seconds:.0f} s")


@pytest.mark.slow
def test_outputs_per_submission_and_for_the_class(class_batch):
    subs, out, _ = class_batch
    book = read_gradebook(out / "gradebook.csv")
    for name, row in book.items():
        assert (out / name / "results.json").is_file() and (out / name / "batch.json").is_file()
        if row["status"] == "graded":
            assert (out / name / "report.html").is_file() and (out / name / "junit.xml").is_file()
            assert (out / name / "grade.log").is_file()
    assert list(book["small_trained"])[:5] == ["name", "status", "score", "max_score", "nme"]
    assert {"model.import", "evaluation.test_set"} <= set(book["small_trained"])
    events = read_events(out / "events.jsonl")
    assert events[0]["event"] == "batch_started" and events[-1]["event"] == "batch_finished"
    for name, row in book.items():
        mine = [e["event"] for e in events if e.get("name") == name]
        assert mine == ["started", "finished" if row["status"] == "graded" else "error"], (name, mine)
    assert all("time" in e and "run" in e for e in events)


@pytest.mark.slow
def test_graded_rows_equal_one_by_one_grading(class_batch, tmp_path):
    subs, out, _ = class_batch
    for name, status in EXPECTED_STATUS.items():
        if status != "graded":
            continue
        source = subs / name
        if not source.exists():  # the zip: unpacked by hand here, not by the batch's code
            with zipfile.ZipFile(subs / f"{name}.zip") as archive:
                archive.extractall(tmp_path / "unzipped")
            source = tmp_path / "unzipped" / name
        assert grade.main(submission=source, out=tmp_path / "alone", name=name, rubric=RUBRIC, data_dir=DATA,
                          device="cpu", quiet=True) == 0
        alone = json.loads((tmp_path / "alone" / name / "results.json").read_text())
        batched = json.loads((out / name / "results.json").read_text())
        assert without_timings(batched) == without_timings(alone), name


@pytest.mark.slow
def test_shards_merge_into_the_same_gradebook(class_batch, tmp_path):
    subs, out, _ = class_batch
    quick = ["corrupt", "memory_hog", "not_a_submission", "starter", "zip_slip"]  # no training, no hang
    part = tmp_path / "submissions"
    part.mkdir()
    for name in quick:
        source = subs / name if (subs / name).exists() else subs / f"{name}.zip"
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, part / source.name)
    for i in (1, 2):
        assert batch.main(submissions=part, out=tmp_path / f"shard{i}", shard=f"{i}/2", jobs=2, timeout=WALL_TIMEOUT,
                          rubric=RUBRIC, data_dir=DATA, device="cpu", quiet=True) == 0
    shard_names = [set(read_gradebook(tmp_path / f"shard{i}" / "gradebook.csv")) for i in (1, 2)]
    assert shard_names == [{"corrupt", "not_a_submission", "zip_slip"}, {"memory_hog", "starter"}]
    assert merge.main(shards=[tmp_path / "shard1", tmp_path / "shard2"], out=tmp_path / "merged", quiet=True) == 0
    merged = read_gradebook(tmp_path / "merged" / "gradebook.csv")
    whole = read_gradebook(out / "gradebook.csv")
    assert merged == {name: whole[name] for name in quick}
    assert (tmp_path / "merged" / "starter" / "report.html").is_file()
    assert index.render([]) and (tmp_path / "merged" / "index.html").read_text().count('<tr data-name="') == 5
    names = {e.get("name") for e in read_events(tmp_path / "merged" / "events.jsonl")} - {None}
    assert names == set(quick)


@pytest.mark.slow
def test_merge_refuses_shards_graded_differently(class_batch, tmp_path):
    _, out, _ = class_batch
    other = tmp_path / "other"
    shutil.copytree(out, other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "rubric_sha256": "0" * 64}))
    assert merge.main(shards=[out, other], out=tmp_path / "merged", quiet=True) == 2


# -- resume after a killed batch (slow) -------------------------------------------------------------
def batch_process(subs: Path, out: Path, *extra: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), "--jobs", "1", "--rubric",
            str(RUBRIC), "--only", ",".join(sorted(MODEL_ONLY)), "--data", str(DATA), "--device", "cpu", "--quiet",
            *extra]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def events_of_last_run(out: Path) -> list[dict]:
    events = read_events(out / "events.jsonl")
    run = [e for e in events if e["event"] == "batch_started"][-1]["run"]
    return [e for e in events if e["run"] == run]


def graded_in(events: list[dict]) -> set[str]:
    return {e["name"] for e in events if e["event"] == "finished"}


@pytest.mark.slow
def test_resume_after_a_killed_batch_grades_only_the_rest(tmp_path, dataset_dir):
    subs = tmp_path / "submissions"
    names = ["amy", "bo", "cat", "dan"]
    for name in names:
        copy_fixture("raises_in_forward", subs, name)
    out = tmp_path / "out"
    first = batch_process(subs, out)
    deadline = time.monotonic() + 300
    while not graded_in(read_events(out / "events.jsonl")) and time.monotonic() < deadline:
        assert first.poll() is None, "the batch ended before it could be killed"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = graded_in(read_events(out / "events.jsonl"))
    assert done_before and done_before != set(names)
    deadline = time.monotonic() + 10  # PR_SET_PDEATHSIG: the killed batch's grading process dies with it
    while processes_mentioning(str(out)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_mentioning(str(out))

    assert batch.main(submissions=subs, out=out, resume=True, rubric=RUBRIC, only=MODEL_ONLY, data_dir=dataset_dir,
                      device="cpu", quiet=True) == 0
    second = events_of_last_run(out)
    assert graded_in(second) == set(names) - done_before
    assert {e["name"] for e in second if e["event"] == "skipped"} == done_before
    assert set(read_gradebook(out / "gradebook.csv")) == set(names)

    (subs / "dan" / "student" / "models.py").write_text((subs / "dan" / "student" / "models.py").read_text() + "\n# v2\n")
    assert batch.main(submissions=subs, out=out, resume=True, rubric=RUBRIC, only=MODEL_ONLY, data_dir=dataset_dir,
                      device="cpu", quiet=True) == 0
    assert graded_in(events_of_last_run(out)) == {"dan"}


@pytest.mark.slow
def test_sigterm_stops_the_batch_cleanly(tmp_path):
    subs = tmp_path / "submissions"
    copy_fixture("hangs_at_import", subs, "first")
    copy_fixture("raises_in_forward", subs, "second")
    out = tmp_path / "out"
    proc = batch_process(subs, out)
    deadline = time.monotonic() + 120
    while not processes_mentioning(str(out / ".batch-work")) and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    events = read_events(out / "events.jsonl")
    assert events[-1]["event"] == "batch_interrupted" and events[-1]["missing"] == 2
    assert not processes_mentioning(str(out))
    assert (out / "gradebook.csv").read_text().count("\n") == 1  # the header: nothing finished
    assert not (out / "first").exists()  # an interrupted grade files no row: --resume grades it


# -- a Dask cluster on loopback (slow) ------------------------------------------------------------
@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two single-thread workers as separate processes on 127.0.0.1; their address."""
    pytest.importorskip("distributed")
    env = dict(os.environ, PYTHONPATH=str(ROOT), DASK_DISTRIBUTED__WORKER__DAEMON="False")
    scheduler_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                               str(scheduler_file)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=open(tmp_path / "scheduler.log", "wb"))]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for i in (1, 2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--host",
                 "127.0.0.1", "--no-dashboard", "--name", f"worker-{i}", "--no-nanny"],
                env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"worker-{i}.log", "wb")))
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.mark.slow
def test_dask_cluster_gives_the_local_gradebook(class_batch, dask_cluster, tmp_path):
    subs, out, _ = class_batch
    names = [n for n, s in EXPECTED_STATUS.items() if n not in ("hangs_at_import", "hangs_on_test_set")]
    part = tmp_path / "submissions"
    part.mkdir()
    for name in names:
        source = subs / name if (subs / name).exists() else subs / f"{name}.zip"
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, part / source.name)
    assert batch.main(submissions=part, out=tmp_path / "out", dask=dask_cluster, timeout=WALL_TIMEOUT, rubric=RUBRIC,
                      data_dir=DATA, device="cpu", quiet=True) == 0
    # similar_to names partners within the class graded, and this class is the local one less two submissions
    remote = {name: {**row, "similar_to": ""} for name, row in read_gradebook(tmp_path / "out" / "gradebook.csv").items()}
    local = {name: {**row, "similar_to": ""} for name, row in read_gradebook(out / "gradebook.csv").items()}
    assert remote == {name: local[name] for name in names}
    for name in ("small_trained", "starter"):
        remote_results = json.loads((tmp_path / "out" / name / "results.json").read_text())
        assert without_timings(remote_results) == without_timings(json.loads((out / name / "results.json").read_text()))


# -- index.html in a real browser (slow: needs the class batch) -------------------------------------
def dom_at(url: str, profile: Path) -> str:
    """The DOM of ``url`` (with its #fragment, which browser.dom cannot pass) after the page's scripts ran."""
    argv = [browser.chromium(), *browser.FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=3000",
            "--dump-dom", url]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
@pytest.mark.browser
def test_index_renders_every_row_and_sorts_in_chromium(class_batch, tmp_path):
    _, out, _ = class_batch
    dom = dom_at((out / "index.html").as_uri() + "#sort=score-desc", tmp_path / "profile")
    names = [line.split('data-name="')[1].split('"')[0] for line in dom.splitlines() if '<tr data-name="' in line]
    assert sorted(names) == sorted(EXPECTED_STATUS)
    book = read_gradebook(out / "gradebook.csv")
    scores = [float(book[n]["score"]) for n in names if book[n]["score"]]
    assert scores == sorted(scores, reverse=True) and names[: len(scores)] == [n for n in names if book[n]["score"]]
    assert 'aria-sort="descending"' in dom and 'id="leaderboard"' in dom and "<rect" in dom
    shot = browser.screenshot(out / "index.html", "batch-index.png", size="1280,1400")
    assert shot.stat().st_size > 10_000
