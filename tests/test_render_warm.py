"""Renders in warm kernels and on a Dask cluster give the files of fresh kernels.

A warm kernel runs one report after another (reset in between); a notebook that changed the
kernel's settings must leave nothing in the next report: two reports of two units in one
warm kernel, after settings changed on purpose, are byte-identical to a fresh kernel each.
On a real two-worker ``LocalCluster`` (processes) the render gives the files of the
in-process render."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from dsr_analysis.render import NOTEBOOKS_DIR, plan_jobs, prepare, render, run_job
from dsr_analysis.renderpool import WarmKernel

QUARTER = "2023Q1"


def rendered_files(out_dir: Path) -> dict[str, bytes]:
    """Every document and web page of a quarter's folder (notebooks compared apart)."""
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())
            if p.is_file() and p.suffix in (".html", ".pdf", ".docx", ".xlsx")
            and p.name != "index.html"}


def notebook_outputs(path: Path) -> list:
    """A notebook's cells without papermill's timings and the injected parameters (paths
    of the run: its staging folder, the prepared inputs)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        meta = {k: v for k, v in cell["metadata"].items() if k not in ("papermill", "execution")}
        injected = "injected-parameters" in meta.get("tags", [])
        cells.append((cell["id"], cell["cell_type"], None if injected else cell["source"],
                      cell.get("execution_count"), cell.get("outputs"), meta))
    return cells


_STAMP = re.compile(rb"<dcterms:(created|modified)([^>]*)>[^<]*</dcterms:\1>")


def content(name: str, data: bytes):
    """A file's bytes; for a Word or Excel file (a zip), its members' bytes: the zip's
    member times and the ``created``/``modified`` stamps of its core properties are the
    moment it was written, different for two renders in any kernel."""
    if not name.endswith((".docx", ".xlsx")):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, _STAMP.sub(rb"<dcterms:\1\2/>", z.read(i)))
                for i in z.infolist()]


def assert_same_renders(a: Path, b: Path) -> None:
    files_a, files_b = rendered_files(a), rendered_files(b)
    assert sorted(files_a) == sorted(files_b)
    assert {".html", ".pdf"} <= {Path(n).suffix for n in files_a}
    different = [name for name in files_a
                 if content(name, files_a[name]) != content(name, files_b[name])]
    assert not different, f"files differ: {different}"
    notebooks = sorted(p.name for p in a.glob("*.ipynb"))
    assert notebooks == sorted(p.name for p in b.glob("*.ipynb")) and notebooks
    for name in notebooks:
        assert notebook_outputs(a / name) == notebook_outputs(b / name), name


#: Settings a report notebook could change, changed in the warm kernel before the first
#: report (after its warm-up): the reset must undo every one.
POISON = """
import os, sys, warnings
import matplotlib, pandas as pd
pd.set_option("display.precision", 1)
pd.set_option("display.max_rows", 3)
matplotlib.rcParams["font.size"] = 31
matplotlib.rcParams["figure.dpi"] = 20
warnings.simplefilter("error")
sys.path.insert(0, "/nonexistent")
os.environ["DSR_POISON"] = "1"
os.chdir("/")
unit = "anxin"
quarter = "2023Q4"
import matplotlib.pyplot as plt
plt.figure(); plt.plot([1, 2], [3, 4])
"""


def test_two_reports_in_one_warm_kernel_equal_fresh_kernels(tmp_path):
    """The summary of the new area, then the statistics table of 雄县, in one warm kernel
    whose settings were changed first: the same files as a fresh kernel for each."""
    outs = {}
    for name in ("fresh", "warm"):
        jobs = (plan_jobs(QUARTER, ["xiongan"], ["summary"], tmp_path / name)
                + plan_jobs(QUARTER, ["xiongxian"], ["statistics"], tmp_path / name))
        jobs = [replace(job, run="run-test") for job in jobs]
        prepare(jobs)
        outs[name] = jobs[0].out_dir
        if name == "fresh":
            for job in jobs:
                run_job(job)
            continue
        kernel = WarmKernel(NOTEBOOKS_DIR)
        try:
            kernel.execute(POISON)
            for job in jobs:
                run_job(job, kernel)
            assert kernel.jobs == 2
        finally:
            kernel.close()
    assert_same_renders(outs["fresh"], outs["warm"])
    # the warm kernel's notebooks count their cells from 1, as a fresh kernel does
    nb = json.loads((outs["warm"] / "statistics-xiongxian.ipynb").read_text(encoding="utf-8"))
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_a_warm_kernel_reset_restores_the_settings(tmp_path):
    kernel = WarmKernel(NOTEBOOKS_DIR)
    try:
        kernel.execute(POISON)
        kernel.reset()
        kernel.execute(f"""
import os, sys, warnings
import matplotlib, pandas as pd
import matplotlib.pyplot as plt
assert "unit" not in dir() and "quarter" not in dir(), dir()
assert pd.get_option("display.precision") == 6 and pd.get_option("display.max_rows") == 60
assert matplotlib.rcParams["font.size"] == 10 and matplotlib.rcParams["figure.dpi"] != 20
assert not plt.get_fignums()
assert "/nonexistent" not in sys.path and "DSR_POISON" not in os.environ
assert os.getcwd() == {str(NOTEBOOKS_DIR)!r}, os.getcwd()
assert get_ipython().execution_count == 1
warnings.warn("a warning, not an error")
""")
    finally:
        kernel.close()


def test_a_failing_notebook_in_a_warm_kernel_is_named_and_the_next_renders(tmp_path):
    from dsr_analysis.render import RenderError, RenderJob

    params = {"quarter": QUARTER, "unit": "anxin", "policy": "xiongan-2023",
              "registers": str(tmp_path / "no-such-dir"), "output_dir": str(tmp_path)}
    kernel = WarmKernel(NOTEBOOKS_DIR)
    try:
        with pytest.raises(RenderError, match=r"report 'notice', unit 'anxin', 2023Q1: failed "
                                              r"in cell \d+ .*no-such-dir.*failed/"
                                              r"notice-anxin\.ipynb"):
            run_job(RenderJob("notice", "anxin", QUARTER, params, tmp_path), kernel)
        (job,) = plan_jobs(QUARTER, ["anxin"], ["annual_plan"], tmp_path / "out")
        prepare([job])
        done = run_job(job, kernel)
        assert done.html.is_file() and {f.suffix for f in done.files} == {".docx", ".pdf"}
    finally:
        kernel.close()


@pytest.mark.slow
def test_render_on_a_two_worker_local_cluster_equals_the_in_process_render(tmp_path):
    """Every job a Dask task on a real LocalCluster of two worker processes (inputs sent
    once per worker, files placed by the render): the files of the in-process render."""
    from dsr_analysis.distributed import local_client
    from dsr_analysis.renderpool import close_process_kernels

    units, reports = ["xiongan", "xiongxian"], ["summary", "statistics"]
    local = render(QUARTER, units, reports, tmp_path / "local", workers=1)
    client = local_client(2)
    try:
        summary = render(QUARTER, units, reports, tmp_path / "cluster", scheduler=client)
        assert summary.workers == 2
        # the notebooks ran in the workers' warm kernels (one per worker at most)
        ran = client.run(lambda: len(__import__("dsr_analysis.renderpool",
                                                fromlist=["_"])._KERNELS))
        assert len(ran) == 2 and set(ran.values()) <= {0, 1} and sum(ran.values()), ran
        client.run(close_process_kernels)
    finally:
        client.close()
        client.cluster.close()
    assert [(r.job.report, r.job.unit) for r in summary.rendered] == [
        (r.job.report, r.job.unit) for r in local.rendered]
    assert_same_renders(tmp_path / "local" / QUARTER, tmp_path / "cluster" / QUARTER)
    # nothing left in the staging area; the index links every report
    assert not any((tmp_path / "cluster" / QUARTER / ".staging").glob("*/*"))
    index = (tmp_path / "cluster" / QUARTER / "index.html").read_text(encoding="utf-8")
    assert "href='summary-xiongan.pdf'" in index


def test_kept_workers_render_the_next_quarter_in_the_same_warm_kernels(tmp_path):
    """``keep_workers=True``: the second render of the process reuses the first one's worker
    processes (and their kernels); ``close_workers`` ends them."""
    from dsr_analysis import render as render_mod

    try:
        first = render(QUARTER, ["anxin", "rongcheng"], ["annual_plan"], tmp_path, workers=2,
                       keep_workers=True)
        pool = render_mod._KEPT[(2, True)]
        pids = set(pool._processes)
        second = render("2023Q2", ["anxin", "rongcheng"], ["annual_plan"], tmp_path,
                        workers=2, keep_workers=True)
        assert render_mod._KEPT[(2, True)] is pool and set(pool._processes) == pids
        assert len(first.rendered) == len(second.rendered) == 2
        assert (tmp_path / "2023Q2" / "annual_plan-anxin.pdf").is_file()
    finally:
        render_mod.close_workers()
    assert (2, True) not in render_mod._KEPT
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(
            f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
