"""The stdlib replay script reproduces a published draw from its record alone."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dsr_analysis.draw import draw_quarter, record_bytes, write_outputs
from dsr_analysis.paths import PROJECT_ROOT
from dsr_analysis.registers import load_registers

SCRIPT = PROJECT_ROOT / "scripts" / "replay_draw.py"


def run(*args: str) -> subprocess.CompletedProcess:
    # -I: isolated mode (no PYTHONPATH, no user site); cwd outside the project.
    return subprocess.run([sys.executable, "-I", str(SCRIPT), *args], capture_output=True,
                          text=True, cwd="/", timeout=120)


@pytest.fixture(scope="module")
def published(policy, tmp_path_factory):
    """Two quarters drawn and published (Q2 depends on Q1 through recusal and caps)."""
    registers = load_registers(units=policy.unit_names)
    root = tmp_path_factory.mktemp("published")
    q1 = draw_quarter(policy, registers, "2023Q1", "replay-2023Q1")
    q2 = draw_quarter(policy, registers, "2023Q2", "replay-2023Q2", [q1.record])
    out = []
    for q, result in (("2023Q1", q1), ("2023Q2", q2)):
        paths = write_outputs(result, root / q)
        paths["frame"] = root / q / "frame.csv"
        paths["frame"].write_bytes(result.frame)
        paths["full"] = root / q / "full.json"  # the whole record, as the ledger holds it
        paths["full"].write_bytes(record_bytes(result.record))
        out.append(paths)
    return tuple(out)


@pytest.mark.parametrize("script", [SCRIPT, SCRIPT.with_name("replay_draw_v1.py"),
                                    SCRIPT.with_name("replay_draw_v2.py"),
                                    SCRIPT.with_name("replay_staffing.py")])
def test_script_uses_the_standard_library_only(script):
    tree = ast.parse(script.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module.split(".")[0])
    # the replays of earlier formats and of the staffing sit beside the script
    assert modules <= set(sys.stdlib_module_names) | {
        "replay_draw_v1", "replay_draw_v2", "replay_staffing"}, modules


def test_format_1_records_replay_with_their_own_algorithm(tmp_path):
    """A record drawn before the format change (per-class sub-quotas) still replays."""
    import sqlite3
    from contextlib import closing

    ledger = Path(__file__).parent / "data" / "ledger-v1" / "ledger.sqlite"
    with closing(sqlite3.connect(ledger)) as con:
        text = con.execute("SELECT record_json FROM entries ORDER BY seq LIMIT 1").fetchone()[0]
    record = tmp_path / "record.json"
    record.write_text(text, encoding="utf-8")
    result = run(str(record))
    assert result.returncode == 0, result.stderr
    assert "(dsr-draw-record/1)" in result.stdout and "all match the record" in result.stdout
    rec = json.loads(text)
    s = next(s for s in rec["strata"] if s["method"] == "random" and s["drawn"]
             and s["eligible_count"] > len(s["drawn"]))
    drawn = {c for c, _ in s["drawn"]}
    s["drawn"][0][0] = next(c for c in s["candidates"] if c not in drawn)
    record.write_bytes(record_bytes(rec))
    result = run(str(record))
    assert result.returncode == 1 and "(format 1)" in result.stderr and ".drawn" in result.stderr


def test_format_2_records_replay_with_their_own_algorithm(tmp_path):
    import sqlite3
    from contextlib import closing

    ledger = Path(__file__).parent / "data" / "ledger-v2" / "ledger.sqlite"
    with closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)) as con:
        text = con.execute("SELECT record_json FROM entries ORDER BY seq DESC LIMIT 1"
                           ).fetchone()[0]
    record = tmp_path / "record.json"
    record.write_text(text, encoding="utf-8")
    result = run(str(record))
    assert result.returncode == 0, result.stderr
    assert "(dsr-draw-record/2)" in result.stdout and "all match the record" in result.stdout


@pytest.mark.parametrize("index", [0, 1])
def test_replay_reproduces_the_draw(published, index):
    paths = published[index]
    result = run(str(paths["record"]), "--internal", str(paths["internal"]), "--frame",
                 str(paths["frame"]))
    assert result.returncode == 0, result.stderr
    assert "all match the record" in result.stdout and "teams" in result.stdout
    public = run(str(paths["record"]))
    assert public.returncode == 0 and "public part" in public.stdout
    seed = json.loads(paths["record"].read_text(encoding="utf-8"))["inputs"]["seed"]
    assert seed in result.stdout


def _tampered(paths, tmp_path: Path, edit, which: str = "record") -> Path:
    rec = json.loads(paths[which].read_text(encoding="utf-8"))
    edit(rec)
    out = tmp_path / "record.json"
    out.write_bytes(record_bytes(rec))
    return out


def test_replay_catches_a_swapped_object(published, tmp_path):
    def edit(rec):
        s = next(s for s in rec["strata"] if s["method"] == "random" and s["drawn"]
                 and s["eligible_count"] > len(s["drawn"]))
        drawn = {c for c, _, _ in s["drawn"]}
        s["drawn"][0][0] = next(c for codes in s["candidates"].values() for c in codes
                                if c not in drawn)

    result = run(str(_tampered(published[0], tmp_path, edit)))
    assert result.returncode == 1
    assert "MISMATCH" in result.stderr and ".drawn" in result.stderr


def test_replay_catches_a_hand_picked_inspector(published, tmp_path):
    def edit(rec):
        t = rec["tasks"][3]
        other = next(i for i in sorted(rec["inputs"]["inspectors"])
                     if i not in {m[0] for m in t["team"]}
                     and rec["inputs"]["inspectors"][i]["unit"] == t["unit"])
        t["team"][1][0] = other

    result = run(str(_tampered(published[1], tmp_path, edit, "full")))
    assert result.returncode == 1
    assert "tasks[3]" in result.stderr and ".team" in result.stderr


def test_replay_catches_a_wrong_frame_and_seed(published, tmp_path):
    frame = tmp_path / "frame.csv"
    frame.write_bytes(published[0]["frame"].read_bytes() + b"x")
    result = run(str(published[0]["record"]), "--frame", str(frame))
    assert result.returncode == 1 and "frame_sha256" in result.stderr

    def edit(rec):
        rec["inputs"]["seed_material"] = "chosen after the fact"

    result = run(str(_tampered(published[0], tmp_path, edit)))
    assert result.returncode == 1 and "inputs.seed" in result.stderr
