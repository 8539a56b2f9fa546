"""Exit codes as documented, never a traceback: operating-system problems are exit 3 with the
path and the reason in one line, and leave nothing behind (real subprocesses)."""

from __future__ import annotations

import subprocess
import sys


def dsr(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dsr_analysis.cli", *args],
                          capture_output=True, text=True, encoding="utf-8", cwd=cwd)


def _one_line_error(run: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert run.returncode == code, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    for n in needles:
        assert n in lines[0], run.stderr


def test_a_ledger_path_that_is_a_directory(tmp_path):
    folder = tmp_path / "ledger.sqlite"
    folder.mkdir()
    _one_line_error(dsr("verify", "--ledger", str(folder)), 3, str(folder), "is a directory")


def test_outputs_that_are_a_file(tmp_path):
    target = tmp_path / "outputs"
    target.write_text("not a directory")
    run = dsr("demo", "--outputs", str(target))
    _one_line_error(run, 3, str(target), "(operating system)")
    assert target.read_text() == "not a directory"


def test_an_output_file_that_is_a_directory_leaves_nothing(tmp_path):
    target = tmp_path / "classes.csv"
    target.mkdir()
    run = dsr("classify", "--output", str(target))
    _one_line_error(run, 3, str(target), "(operating system)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classes.csv"]  # no temporary file
    assert not any(target.iterdir())


def test_a_ledger_that_is_not_sqlite_is_bad_input_not_a_crash(tmp_path):
    bogus = tmp_path / "ledger.sqlite"
    bogus.write_bytes(b"this is not a database" * 100)
    _one_line_error(dsr("verify", "--ledger", str(bogus)), 2, str(bogus), "not a ledger")


def test_a_fifo_as_policy_is_refused_without_reading_it(tmp_path):
    import os

    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)  # reading it would block for ever
    run = subprocess.run([sys.executable, "-m", "dsr_analysis.cli", "quotas", "--quarter",
                          "2023Q1", "--policy", str(fifo)], capture_output=True, text=True,
                         encoding="utf-8", timeout=120)
    _one_line_error(run, 3, str(fifo), "not a regular file")


def test_a_policy_that_is_a_directory(tmp_path):
    _one_line_error(dsr("quotas", "--quarter", "2023Q1", "--policy", str(tmp_path)), 3,
                    str(tmp_path), "is a directory")


def test_a_fifo_or_a_directory_as_register_is_refused_without_reading_it(tmp_path, sample_dir):
    import os

    (sample_dir / "experts.csv").unlink()
    os.mkfifo(sample_dir / "experts.csv")
    run = subprocess.run([sys.executable, "-m", "dsr_analysis.cli", "validate", "--registers",
                          str(sample_dir)], capture_output=True, text=True, encoding="utf-8",
                         timeout=120)
    _one_line_error(run, 3, "experts.csv", "not a regular file")
    (sample_dir / "experts.csv").unlink()
    (sample_dir / "experts.csv").mkdir()
    _one_line_error(dsr("validate", "--registers", str(sample_dir)), 3, "experts.csv",
                    "is a directory")
