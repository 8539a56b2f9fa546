"""Nothing lost on faults (issue 19): real processes, real SIGKILL, a real full disk.

- A render killed at random moments leaves every earlier document as it was (same file, same
  bytes) or replaced as a complete set together with the rest of its report, no temporary or
  partial file beside the documents, no process writing on; the next render finishes or
  removes what was staged.
- A render and a draw on a full disk (tmpfs, as root) exit 3 with one ``error:`` line naming
  the path, no traceback, no partial file; a draw's committed files are recovered by the next
  command.
- Path problems: a register directory given as a file is exit 3, a missing one exit 2; ``dsr
  demo`` on bad registers writes nothing.

The long kill trials are ``@pytest.mark.slow`` (``make test-slow``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest

QUARTER = "2023Q1"
#: Files of a quarter's folder that are not documents (lock, prepared inputs, staging area).
NOT_DOCUMENTS = {".render.lock", ".prepared", ".staging", "failed"}


def dsr(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dsr_analysis.cli", *args], capture_output=True,
                          text=True, encoding="utf-8", timeout=600, **kw)


def one_error_line(run: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    assert run.returncode == code, (run.returncode, run.stdout[-2000:], run.stderr[-4000:])
    assert "Traceback" not in run.stderr, run.stderr
    lines = [ln for ln in run.stderr.split("\n") if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    for needle in needles:
        assert needle in lines[0], run.stderr
    return lines[0]


# --------------------------------------------------------------------------------------
# What a quarter's folder holds
# --------------------------------------------------------------------------------------
def report_of(name: str) -> str:
    """The report set a document belongs to: ``statistics-xiongxian.pdf`` and
    ``notice-xiongxian-2023-01.xlsx`` -> ``statistics-xiongxian``, ``notice-xiongxian``."""
    stem = name.split(".", 1)[0]
    parts = stem.split("-")
    return "-".join(parts[:2])


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Document name -> (inode, bytes) of every file beside the documents."""
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in folder.iterdir()
            if p.is_file() and p.name not in NOT_DOCUMENTS}


def complete(path: Path) -> bool:
    """A document whose end is there (a cut file fails): XLSX/DOCX are valid ZIPs, a PDF ends
    with %%EOF, HTML with </html>, a notebook is JSON."""
    data = path.read_bytes()
    if path.suffix in (".xlsx", ".docx"):
        try:
            with zipfile.ZipFile(path) as z:
                return z.testzip() is None
        except zipfile.BadZipFile:
            return False
    if path.suffix == ".pdf":
        return data.rstrip().endswith(b"%%EOF")
    if path.suffix == ".html":
        return data.rstrip().endswith(b"</html>")
    if path.suffix == ".ipynb":
        try:
            return bool(json.loads(data)["cells"])
        except ValueError:
            return False
    return False


def check_folder(folder: Path, before: dict[str, tuple[int, bytes]]) -> dict[str, str]:
    """Every document intact (same file, same bytes as ``before``) or replaced, each report's
    files all intact or all replaced, every file complete, nothing temporary beside them.
    Returns report -> 'intact' / 'replaced'."""
    names = sorted(p.name for p in folder.iterdir())
    stray = [n for n in names if n not in NOT_DOCUMENTS and (n.startswith(".") or
                                                               n.endswith((".tmp", ".part")))]
    assert not stray, f"temporary files beside the documents: {stray}"
    prepared = folder / ".prepared"
    if prepared.is_dir():
        assert all(p.name.startswith("inputs-") and p.suffix == ".pkl"
                   for p in prepared.iterdir()), list(prepared.iterdir())
    now = snapshot(folder)
    assert set(before) <= set(now), f"documents gone: {sorted(set(before) - set(now))}"
    states: dict[str, set[str]] = {}
    for name, (inode, data) in now.items():
        assert complete(folder / name), f"{name} is cut or empty ({len(data)} bytes)"
        if name == "index.html":
            continue
        old = before.get(name)
        state = "intact" if old is not None and old[0] == inode else "replaced"
        if state == "intact":
            assert old[1] == data, f"{name}: same file, other bytes"
        states.setdefault(report_of(name), set()).add(state)
    mixed = {r: s for r, s in states.items() if len(s) > 1}
    assert not mixed, f"a report's forms from two runs: {mixed}"
    return {r: s.pop() for r, s in states.items()}


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_render(args: list[str], after: float) -> None:
    """Start ``dsr render ARGS``, SIGKILL it after ``after`` seconds (if still running) and
    wait until every process it started (workers, kernels) is gone as well."""
    proc = subprocess.Popen([sys.executable, "-m", "dsr_analysis.cli", "render", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + after
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    family = descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    _out, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err, err.decode(errors="replace")
    limit = time.monotonic() + 20  # kernels poll their parent every second
    while any(alive(p) for p in family):
        assert time.monotonic() < limit, (
            f"processes of the killed render still running: {[p for p in family if alive(p)]}")
        time.sleep(0.1)


RENDER = ["--quarter", QUARTER, "--unit", "xiongxian"]


def render_args(out: Path, reports: str = "statistics", workers: str = "1") -> list[str]:
    return [*RENDER, "--report", reports, "--workers", workers, "--outputs", str(out)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, float]:
    """A complete render of 雄县's statistics table on the demo data (the outputs root) and
    how long it took [s]; tests copy it before changing it."""
    out = tmp_path_factory.mktemp("rendered") / "out"
    start = time.monotonic()
    run = dsr("render", *render_args(out))
    assert run.returncode == 0, run.stderr
    return out, time.monotonic() - start


def copy_outputs(rendered_out: Path, target: Path) -> Path:
    shutil.copytree(rendered_out, target)
    return target


def kill_trials(out: Path, trials: int, seed: int, duration: float, reports: str,
                workers: str) -> dict[str, tuple[int, bytes]]:
    """Kill ``trials`` renders of ``out`` at random moments, checking the folder after each;
    returns the last snapshot."""
    folder = out / QUARTER
    before = snapshot(folder)
    check_folder(folder, before)
    rng = random.Random(seed)
    for _ in range(trials):
        kill_render(render_args(out, reports, workers), rng.uniform(0.5, duration))
        check_folder(folder, before)
        before = snapshot(folder)
    return before


def test_a_render_killed_twice_leaves_every_document_whole(rendered, tmp_path):
    from dsr_analysis.render import recover_staging

    out = copy_outputs(rendered[0], tmp_path / "out")
    before = kill_trials(out, 2, seed=19, duration=rendered[1], reports="statistics",
                         workers="1")
    recover_staging(out / QUARTER)  # what the next render does first
    check_folder(out / QUARTER, before)
    assert not (out / QUARTER / ".staging").exists()


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_render_killed_at_random_moments_leaves_every_document_whole(tmp_path, workers):
    """Eight kills of a render of two reports (a notice has a file per month), in one process
    and with two workers; then a render finishes or removes what was staged."""
    out = tmp_path / "out"
    start = time.monotonic()
    run = dsr("render", *render_args(out, "notice,statistics", workers))
    assert run.returncode == 0, run.stderr
    duration = time.monotonic() - start
    assert {report_of(n) for n in snapshot(out / QUARTER)} >= {"statistics-xiongxian",
                                                               "notice-xiongxian"}
    before = kill_trials(out, 8, seed=2023 + int(workers), duration=duration,
                         reports="notice,statistics", workers=workers)
    run = dsr("render", *render_args(out))
    assert run.returncode == 0, run.stderr
    states = check_folder(out / QUARTER, before)
    assert states["statistics-xiongxian"] == "replaced"
    assert not (out / QUARTER / ".staging").exists()
    assert not (out / QUARTER / "failed").exists()


@pytest.mark.slow
def test_two_renders_of_one_quarter_at_once_take_turns(rendered, tmp_path):
    """The folder's lock: the second render waits for the first instead of removing its
    staged files; both succeed and the folder holds one complete set."""
    out = copy_outputs(rendered[0], tmp_path / "out")
    before = snapshot(out / QUARTER)
    procs = [subprocess.Popen([sys.executable, "-m", "dsr_analysis.cli", "render",
                               *render_args(out)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for _ in range(2)]
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode(errors="replace")
    assert check_folder(out / QUARTER, before) == {"statistics-xiongxian": "replaced"}
    assert not (out / QUARTER / ".staging").exists()


def test_a_staged_report_left_by_a_killed_render_is_moved_in_as_a_set(tmp_path):
    """A kill between the renames of one report: the next render completes the set first
    (the staged files carry their manifest), and removes an incomplete staging folder."""
    from dsr_analysis.render import MANIFEST, STAGING, recover_staging

    folder = tmp_path / QUARTER
    folder.mkdir()
    for name in ("notice-anxin.html", "notice-anxin-2023-01.xlsx", "notice-anxin-2023-01.pdf"):
        (folder / name).write_text("old")
    done = folder / STAGING / "run-1-a" / "notice-anxin"
    done.mkdir(parents=True)
    (done / "notice-anxin-2023-01.pdf").write_text("new")  # the other two already moved
    (folder / "notice-anxin.html").write_text("new")
    (folder / "notice-anxin-2023-01.xlsx").write_text("new")
    (done / MANIFEST).write_text(json.dumps({"files": [
        "notice-anxin-2023-01.pdf", "notice-anxin-2023-01.xlsx", "notice-anxin.html"]}))
    cut = folder / STAGING / "run-1-a" / "statistics-anxin"
    cut.mkdir()
    (cut / ".statistics-anxin.x1y2.pdf").write_text("half")
    lines = recover_staging(folder)
    assert len(lines) == 2
    assert {p.name: p.read_text() for p in folder.iterdir()} == {
        "notice-anxin.html": "new", "notice-anxin-2023-01.xlsx": "new",
        "notice-anxin-2023-01.pdf": "new"}


def test_a_failing_report_keeps_its_partial_notebook_apart(tmp_path):
    """A report that fails keeps its earlier documents; its partial notebook goes to
    failed/, named in the error, and leaves when the report renders again."""
    from dsr_analysis.render import RenderError, RenderJob, run_job

    folder = tmp_path / QUARTER
    folder.mkdir()
    (folder / "summary-anxin.docx").write_bytes(b"earlier")
    params = {"quarter": QUARTER, "unit": "anxin", "policy": "xiongan-2023",
              "registers": str(tmp_path / "no-such-dir"), "output_dir": str(folder)}
    with pytest.raises(RenderError, match=r"partial notebook kept for inspection: .*"
                                          r"failed/summary-anxin\.ipynb"):
        run_job(RenderJob("summary", "anxin", QUARTER, params, folder))
    assert sorted(p.name for p in folder.iterdir() if p.name != ".staging") == [
        "failed", "summary-anxin.docx"]
    assert (folder / "summary-anxin.docx").read_bytes() == b"earlier"
    assert [p.name for p in (folder / "failed").iterdir()] == ["summary-anxin.ipynb"]
    assert not [p for p in (folder / ".staging").rglob("*") if p.is_file()]


# --------------------------------------------------------------------------------------
# A full disk
# --------------------------------------------------------------------------------------
@contextmanager
def tmpfs(path: Path, size: str):
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a tmpfs mount, which needs root")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                   check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` until ``leave`` bytes are free; returns the filler file."""
    filler = disk / "filler"
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(filler, "ab") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def no_temporaries(root: Path) -> list[str]:
    """Files left by a failure: temporary names, anything staged, empty files (locks aside)."""
    return [str(p) for p in root.rglob("*") if p.is_file() and (
        p.name.endswith((".tmp", ".part")) or ".staging" in p.parts
        or (p.name.startswith(".") and p.name != ".render.lock")
        or (p.stat().st_size == 0 and not p.name.endswith(".lock")))]


def render_on_a_full_disk(rendered_out: Path, disk: Path, leaves: list[str]) -> None:
    out = copy_outputs(rendered_out, disk / "out")
    folder = out / QUARTER
    before = snapshot(folder)
    prepared = sum(p.stat().st_size for p in (folder / ".prepared").iterdir())
    for leave in leaves:
        # "prepared": no room for the prepared inputs; "documents": room for them, not for
        # the report's documents (the inputs are a cache: without an earlier copy to free
        # when the new one replaces it)
        shutil.rmtree(folder / ".prepared", ignore_errors=True)
        filler = fill(disk, 64 * 1024 if leave == "prepared" else prepared + 200 * 1024)
        line = one_error_line(dsr("render", *render_args(out)), 3, "No space left on device",
                              str(folder))
        assert "(operating system)" in line
        assert check_folder(folder, before) == {"statistics-xiongxian": "intact"}
        assert not no_temporaries(out), no_temporaries(out)
        filler.unlink()


def test_a_render_on_a_full_disk_exits_3_and_keeps_the_earlier_documents(rendered, tmp_path):
    with tmpfs(tmp_path / "disk", "8m") as disk:
        render_on_a_full_disk(rendered[0], disk, ["documents"])


@pytest.mark.slow
def test_a_render_on_a_full_disk_at_every_stage(rendered, tmp_path):
    with tmpfs(tmp_path / "disk", "8m") as disk:
        render_on_a_full_disk(rendered[0], disk, ["prepared", "documents"])
        out, folder = disk / "out", disk / "out" / QUARTER
        before = snapshot(folder)
        assert dsr("render", *render_args(out)).returncode == 0  # room again
        assert check_folder(folder, before) == {"statistics-xiongxian": "replaced"}


def test_a_draw_on_a_full_disk_exits_3_and_the_ledger_stays_whole(tmp_path):
    """dsr draw with the disk full when its files are staged, and when they fit but the
    ledger's append does not (the failed COMMIT once raised "cannot rollback" with a
    traceback): exit 3, one line naming the path, no traceback, nothing half-written, the
    ledger unchanged; with room again the draw succeeds and the ledger verifies."""
    from bureau import QUARTER as Q
    from bureau import SEED_MATERIAL, SEED_SOURCE, UNIT, make_bureau_registers

    from dsr_analysis.draw import commit_quarter, draw_and_record
    from dsr_analysis.draw.ledger import entries
    from dsr_analysis.policy import load_policy
    from dsr_analysis.registers import load_registers

    registers_dir = make_bureau_registers(tmp_path / "registers")
    policy = load_policy()
    registers = load_registers(registers_dir, units=policy.unit_names)
    with tmpfs(tmp_path / "disk", "4m") as disk:
        out = disk / "outputs"
        ledger = out / "ledger.sqlite"
        commit_quarter(policy, registers, Q, SEED_SOURCE, ledger, out, units=[UNIT],
                       seed_form="numbers")
        committed = entries(ledger)
        # How much the draw's files take (4 KiB pages on tmpfs), from the same draw made on a
        # copy off the small disk.
        scratch = shutil.copytree(out, tmp_path / "scratch")
        known = {p for p in scratch.rglob("*") if p.is_file()}
        draw_and_record(policy, registers, Q, SEED_MATERIAL, scratch / "ledger.sqlite", scratch,
                        units=[UNIT], registers_dir=registers_dir)
        files = [p for p in (scratch / "draws").rglob("*") if p.is_file() and p not in known]
        staged = sum(-(-p.stat().st_size // 4096) * 4096 for p in files) + 4096  # + manifest
        draw = ["draw", "--quarter", Q, "--units", UNIT, "--seed-material", SEED_MATERIAL,
                "--registers", str(registers_dir), "--ledger", str(ledger), "--outputs",
                str(out)]
        for leave, needle in ((0, "cannot write the draw's files"),
                              (staged + 8 * 1024, str(ledger))):
            filler = fill(disk, leave)
            one_error_line(dsr(*draw), 3, needle, "full" if leave else "No space left")
            filler.unlink()
            assert entries(ledger) == committed
            assert not no_temporaries(out), no_temporaries(out)
        run = dsr(*draw)
        assert run.returncode == 0, run.stderr
        assert len(entries(ledger)) == len(committed) + 1
        verified = dsr("verify", "--no-replay", "--ledger", str(ledger))
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_draw_whose_files_cannot_be_placed_after_its_commit_is_recovered(tmp_path):
    """The commit stands, the files stay staged (exit 3, one line saying so); once the path
    is fixed, the next command (dsr verify) moves them into place."""
    from bureau import QUARTER as Q
    from bureau import SEED_MATERIAL, SEED_SOURCE, UNIT, make_bureau_registers

    from dsr_analysis.draw import commit_quarter
    from dsr_analysis.draw.ledger import entries
    from dsr_analysis.policy import load_policy
    from dsr_analysis.registers import load_registers

    registers_dir = make_bureau_registers(tmp_path / "registers")
    policy = load_policy()
    registers = load_registers(registers_dir, units=policy.unit_names)
    out = tmp_path / "outputs"
    ledger = out / "ledger.sqlite"
    commit_quarter(policy, registers, Q, SEED_SOURCE, ledger, out, units=[UNIT],
                   seed_form="numbers")
    blocker = out / "draws" / Q / UNIT / "internal"
    blocker.write_text("a file where the draw's internal folder belongs")
    run = dsr("draw", "--quarter", Q, "--units", UNIT, "--seed-material", SEED_MATERIAL,
              "--registers", str(registers_dir), "--ledger", str(ledger), "--outputs", str(out))
    one_error_line(run, 3, "the ledger entry is committed", "moves them into place")
    assert not entries(ledger)[-1].is_commitment
    blocker.unlink()
    verified = dsr("verify", "--no-replay", "--ledger", str(ledger))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "moved into" in verified.stdout
    assert (blocker / "tasks.csv").is_file()
    assert not (out / "draws" / ".staging").exists()


# --------------------------------------------------------------------------------------
# Path problems
# --------------------------------------------------------------------------------------
def test_a_register_directory_given_as_a_file_is_exit_3_and_a_missing_one_exit_2(tmp_path):
    afile = tmp_path / "registers.csv"
    afile.write_text("uscc,name\n")
    for args in (["validate"], ["render", "--quarter", QUARTER, "--outputs",
                                str(tmp_path / "o")]):
        one_error_line(dsr(*args, "--registers", str(afile)), 3, str(afile),
                       "a file where the register directory belongs")
    missing = tmp_path / "nowhere"
    one_error_line(dsr("draw", "--quarter", QUARTER, "--seed-material", "x", "--ledger",
                       str(tmp_path / "l.sqlite"), "--outputs", str(tmp_path / "o"),
                       "--registers", str(missing)), 2, str(missing),
                   "no such register directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registers.csv"]


def test_demo_on_bad_registers_writes_nothing(tmp_path, sample_dir):
    (sample_dir / "inspectors.csv").write_text("inspector_id\n", encoding="utf-8")
    out = tmp_path / "demo-out"
    run = dsr("demo", "--registers", str(sample_dir), "--outputs", str(out))
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_export_of_a_missing_ledger_leaves_no_lock_file(tmp_path):
    one_error_line(dsr("export", "--ledger", str(tmp_path / "ledger.sqlite")), 2,
                   "ledger not found")
    assert not list(tmp_path.iterdir())
