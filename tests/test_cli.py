"""The `dsr` command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
from conftest import read_raw, write_raw

from dsr_analysis.cli import main


def dsr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dsr_analysis.cli", *args],
                          capture_output=True, text=True, encoding="utf-8")


def test_validate_sample():
    res = dsr("validate")
    assert res.returncode == 0, res.stderr
    assert "registers OK (3000 enterprises, 150 inspectors, 30 experts, 40 items)" in res.stdout


def test_validate_lists_every_problem_and_fails(sample_dir):
    ent = read_raw(sample_dir, "enterprises")
    ent.loc[0, "credit_class"] = "Q"
    ent.loc[1, "unit"] = "nowhere"
    path = write_raw(sample_dir, "enterprises", ent)
    res = dsr("validate", "--registers", str(sample_dir))
    assert res.returncode == 1
    lines = res.stderr.splitlines()
    assert any(line.startswith(f"{path}:2:credit_class: unknown credit class 'Q'") for line in lines)
    assert any(line.startswith(f"{path}:3:unit: unknown unit 'nowhere'") for line in lines)
    assert lines[-1] == "2 problems found; nothing was written."


def test_quotas_csv_and_json_agree():
    csv = dsr("quotas", "--quarter", "2023Q1", "--format", "csv", "--columns", "ids")
    js = dsr("quotas", "--quarter", "2023Q1", "--format", "json", "--columns", "ids")
    assert csv.returncode == 0 and js.returncode == 0
    a = pd.read_csv(io.StringIO(csv.stdout), keep_default_na=False)
    b = pd.DataFrame(json.loads(js.stdout))
    assert list(a.columns)[:10] == ["quarter", "unit", "unit_name", "level", "category", "subset",
                                    "stratum", "population", "ratio", "quota"]
    assert {"probability_A", "expected_D"} <= set(a.columns)
    assert a["quota"].tolist() == b["quota"].tolist()
    assert set(a["unit"]) == {"xiongan", "xiongxian", "rongcheng", "anxin"}
    assert "share of random draws combined with the credit-risk classes" in csv.stderr


def test_quotas_bad_quarter():
    res = dsr("quotas", "--quarter", "2023-1")
    assert res.returncode == 2
    assert "error: '2023-1' is not a quarter (expected e.g. 2023Q1)" in res.stderr


def test_classify_writes_reasons(tmp_path):
    out = tmp_path / "c.csv"
    res = dsr("classify", "--output", str(out), "--columns", "ids")
    assert res.returncode == 0, res.stderr
    frame = pd.read_csv(out)
    assert {"category", "category_reason"} <= set(frame.columns)
    assert len(frame) == 3000


def test_policy_error_names_file_and_key(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    res = dsr("quotas", "--quarter", "2023Q1", "--policy", str(bad))
    assert res.returncode == 2
    assert f"error: {bad}: missing key 'name'" in res.stderr


# ------------------------------------------------------------------ render: inputs checked first
def test_render_refuses_demo_data_on_a_user_register(tmp_path, sample_dir, capsys):
    out = tmp_path / "out"
    assert main(["render", "--quarter", "2023Q1", "--registers", str(sample_dir),
                 "--outputs", str(out)]) == 2
    err = capsys.readouterr().err
    assert "without a ledger" in err and "invented results" in err  # reports' own rule
    assert not out.exists()


def test_render_with_a_bad_results_register_exits_1_before_any_notebook(tmp_path, sample_dir,
                                                                        capsys):
    import pandas as pd

    from dsr_analysis.policy import load_policy
    from dsr_analysis.results import write_results
    from dsr_analysis.workflows import demo_results

    led, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    base = ["--registers", str(sample_dir), "--quarter", "2023Q1", "--units", "anxin",
            "--ledger", str(led), "--outputs", str(tmp_path / "draws")]
    assert main(["commit", *base, "--seed-source", "s"]) == 0
    assert main(["draw", *base, "--seed-material", "m"]) == 0
    demo = demo_results(load_policy(), led, tmp_path / "res")
    as_csv = write_results(demo.results, tmp_path / "res" / "results.csv")
    frame = pd.read_csv(as_csv, dtype=str, keep_default_na=False)
    frame.loc[3, "outcome"] = "maybe"
    bad = tmp_path / "results.csv"
    frame.to_csv(bad, index=False)
    capsys.readouterr()
    assert main(["render", "--quarter", "2023Q1", "--registers", str(sample_dir), "--ledger",
                 str(led), "--results", str(bad), "--outputs", str(out)]) == 1
    err = capsys.readouterr().err
    assert "results.csv:5" in err and "outcome" in err and "maybe" in err
    assert "nothing was written" in err and not out.exists()
    assert main(["render", "--quarter", "2023Q1", "--ledger", str(led), "--outputs",
                 str(out)]) == 2
    assert "the results register is required" in capsys.readouterr().err


def test_render_the_january_notice_of_the_year_before(tmp_path, capsys):
    """December's checks published in January 2024 reach January's notice (a real run)."""
    from openpyxl import load_workbook

    from dsr_analysis import official, reports

    out = tmp_path / "out"
    assert main(["render", "--month", "2024-01", "--report", "notice", "--unit", "xiongxian",
                 "--outputs", str(out)]) == 0
    folder = out / "2024Q1"
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert names == ["index.html", "notice-xiongxian-2024-01.html",
                     "notice-xiongxian-2024-01.ipynb", "notice-xiongxian-2024-01.pdf",
                     "notice-xiongxian-2024-01.xlsx"]
    expected = official.notice_document(reports.load_report_inputs("2023Q4", month="2024-01"),
                                        "xiongxian", 2024, 1).table.frame
    ws = load_workbook(folder / "notice-xiongxian-2024-01.xlsx").active
    ids = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)
           and c.value.startswith("2023Q4-xiongxian-")}
    assert ids == set(expected["任务编号"]) and len(ids) > 0
    html = (folder / "notice-xiongxian-2024-01.html").read_text(encoding="utf-8")
    assert "雄县2024年1月“双随机、一公开”抽查结果公示" in html and "演示数据" in html
    assert "2024年1月" in (folder / "index.html").read_text(encoding="utf-8")
