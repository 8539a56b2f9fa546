"""Render the official reports in batch: papermill per report x unit; HTML, DOCX, PDF, XLSX; index.

``render(quarter, units, reports)``:

1. plans one job per report x unit (the evaluation is written by the new-area level about the
   counties, so it is rendered for area-level units only);
2. validates every job's parameters against the notebook's ``parameters`` cell
   (:func:`papermill.inspect_notebook`) **before anything runs**: an unknown name or a value
   of the wrong type is a :class:`~dsr_analysis.errors.ParameterError` (papermill itself only
   warns);
3. reads and validates the registers, the ledger and the results **once**
   (:func:`dsr_analysis.reports.prepare_report_inputs`) into ``{out}/{quarter}/.prepared/``,
   before any notebook starts; every notebook loads that file instead of reading again;
4. executes the notebooks in parallel across the machine's cores
   (:class:`concurrent.futures.ProcessPoolExecutor`, the heaviest jobs first), each worker
   process in a warm kernel of its own (:mod:`dsr_analysis.renderpool`: started and loaded
   while step 3 runs, reset between notebooks, the files those of a fresh kernel), with a
   progress bar over the jobs, each into its own staging folder
   ``{out}/{quarter}/.staging/{run}/{report}-{unit}/`` (the notebook's ``output_dir``
   parameter points there); or, with ``scheduler=``, as Dask tasks (below);
5. exports each executed notebook to HTML without code cells and without the cells tagged
   ``internal`` (the reviewers' checks); the notebooks write their documents themselves
   (:func:`dsr_analysis.documents.write_forms`: DOCX and PDF, or XLSX and PDF; an official
   document's reviewers' appendix as the internal ``{report}-{unit}.review.pdf``, never in
   the files sent); the summary and the evaluation take their 发文字号 from the register
   ``{out}/document-numbers.sqlite`` (:mod:`dsr_analysis.documents.numbers`: a document
   keeps its number when rendered again, a number is never given twice);
6. moves each report's files (notebook, HTML, DOCX/XLSX, PDF) into ``{out}/{quarter}/`` as a
   set (:func:`dsr_analysis.staging.publish`: a manifest written last, then ``os.replace``
   per file);
7. writes ``{out}/{quarter}/index.html`` (atomically) once its reports are in place.

**On a cluster.** ``render(..., scheduler="local" | "tcp://host:8786" | client)`` runs every
report x unit as a Dask task (:func:`render_on_worker`): the prepared inputs are sent once
to every worker (``Client.scatter(broadcast=True)``), each worker runs papermill in its own
warm kernel in a folder of its own and sends the files back; the render stages and places
them as in step 6, under its lock, so the outputs folder is written by the render alone and
the files are those of the render on this machine (tested on a two-worker ``LocalCluster``).
The workers need the package at the same version; the summary and the evaluation take
their 发文字号 from the register in the outputs folder and the annual plan reads the
ledger's recorded revisions, so for those the workers see the outputs folder and the ledger
at the same paths (a shared file system).

**Faults.** A render holds the folder's lock (``{out}/{quarter}/.render.lock``, ``flock``,
released by the system when the process dies) from the first write to the index: two renders
of one quarter serialise. Every temporary file is in ``.staging/``; a render killed at any
moment leaves every earlier document as it was, and the next render of the quarter moves a
report staged completely (its manifest written) into place and deletes everything else
staged (:func:`recover_staging`). Worker processes die with the render (``PR_SET_PDEATHSIG``)
and their kernels within a second. An operating-system error (a full disk) stops the batch
with :class:`~dsr_analysis.errors.FileSystemError` naming the path (exit 3); the reports
already moved into place stay, the others keep their earlier documents.

``render(..., month="2024-01")`` renders the results notice of one month, which may follow the
policy year (December's checks published in January), into the month's quarter directory.

A failing notebook raises :class:`RenderError` naming the report, the unit, the quarter and
the cell (execution count and first line); its partial notebook is kept for inspection in
``{out}/{quarter}/failed/`` (never beside the documents), and its earlier documents stay.
"""

from __future__ import annotations

import builtins
import datetime as dt
import html
import os
import re
import secrets
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import FileSystemError, ParameterError, RenderError, os_message
from .i18n import _
from .paths import OUTPUTS_DIR, PROJECT_ROOT
from .periods import Quarter, month_quarter
from .draw.ledger import exclusive
from .documents.numbers import register_path
from .policy import load_policy
from .staging import MANIFEST, STAGING, clean_run, discard, publish, recover

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks" / "reports"
#: Folder of a quarter's outputs keeping the partial notebooks of failed reports.
FAILED = "failed"
#: Seconds a render waits for another render of the same quarter's folder.
LOCK_TIMEOUT = 3600.0
#: Exceptions of a notebook that are the operating system's (a full disk), not the report's.
OS_ERRORS = frozenset({name for name, c in vars(builtins).items()
                       if isinstance(c, type) and issubclass(c, OSError)} | {"FileSystemError"})


@dataclass(frozen=True)
class ReportSpec:
    """A report notebook.

    Attributes
    ----------
    name : str
        Report id (``statistics``…), also the notebook's file stem.
    title_zh : str
        Title for readers.
    levels : tuple of str
        Unit levels the report is rendered for.
    rule : str
        Rule ids it serves.
    """

    name: str
    title_zh: str
    levels: tuple[str, ...]
    rule: str
    forms: tuple[str, ...] = ("docx", "pdf")

    @property
    def notebook(self) -> Path:
        return NOTEBOOKS_DIR / f"{self.name}.ipynb"


REPORTS: dict[str, ReportSpec] = {
    "statistics": ReportSpec("statistics", "季度统计表", ("area", "county"), "R9", ("xlsx", "pdf")),
    "summary": ReportSpec("summary", "季度工作总结", ("area", "county"), "R9"),
    "evaluation": ReportSpec("evaluation", "考核评估通报", ("area",), "R10"),
    "notice": ReportSpec("notice", "抽查结果公示", ("area", "county"), "R8", ("xlsx", "pdf")),
    "annual_plan": ReportSpec("annual_plan", "年度抽查计划", ("area", "county"), "R8"),
}


@dataclass(frozen=True)
class RenderJob:
    """One notebook run.

    Attributes
    ----------
    report, unit, quarter : str
    parameters : dict
        Parameters injected by papermill (validated).
    out_dir : Path
        Directory of the quarter's outputs.
    run : str
        The batch's staging folder under ``out_dir/.staging/`` (default: one per process).
    """

    report: str
    unit: str
    quarter: str
    parameters: dict[str, Any]
    out_dir: Path
    run: str = ""

    @property
    def stem(self) -> str:
        return f"{self.report}-{self.unit}"

    @property
    def file_stem(self) -> str:
        """Stem of the notebook and HTML files (a month's notice: ``notice-UNIT-YYYY-MM``)."""
        month = self.parameters.get("month", "")
        return f"{self.stem}-{month}" if month else self.stem

    @property
    def staging(self) -> Path:
        """The job's staging folder: everything it writes goes here first."""
        return self.out_dir / STAGING / (self.run or f"run-{os.getpid()}") / self.file_stem


@dataclass(frozen=True)
class Rendered:
    """Files a job wrote and how long it took (seconds)."""

    job: RenderJob
    notebook: Path
    html: Path
    files: tuple[Path, ...]
    seconds: float


@dataclass(frozen=True)
class RenderSummary:
    """Outcome of a batch: every rendered report and the index page."""

    quarter: str
    rendered: tuple[Rendered, ...]
    index: Path
    seconds: float
    workers: int
    failures: tuple[str, ...] = field(default=())
    recovered: tuple[str, ...] = field(default=())  # what an interrupted render left, done


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (float, int), "bool": (bool,),
}


def declared_parameters(notebook: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its ``parameters`` cell: name -> papermill's
    description (``inferred_type_name``, ``default``, ``help``)."""
    import nbformat
    import papermill

    params = papermill.inspect_notebook(str(notebook))
    if not params:
        raise ParameterError(_("{notebook}: no cell tagged 'parameters'").format(notebook=notebook))
    # papermill skips (with a log warning) a line it cannot parse, e.g. one with '=' in its
    # comment; such a parameter would silently become unknown, so name it here.
    nb = nbformat.read(str(notebook), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    for line in cell.source.splitlines():
        m = re.match(r"^([A-Za-z_]\w*)\s*(:[^=]*)?=", line)
        if m and m.group(1) not in params:
            raise ParameterError(_("{notebook}: parameters cell line '{line}' cannot be parsed "
                                   "by papermill (write 'name: type = value  # meaning' without "
                                   "'=' in the comment)").format(notebook=notebook, line=line))
    # Names starting with '_' are the notebook's own book-keeping (``_names``: the names
    # before papermill's injected values, for the notebook's parameter check).
    return {k: v for k, v in params.items() if not k.startswith("_")}


def validate_parameters(report: str, parameters: Mapping[str, Any],
                        declared: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Raise :class:`ParameterError` for a parameter the notebook does not declare or a value
    whose type differs from the declared one (``int`` for ``float`` is accepted; ``bool`` is
    never an ``int``)."""
    spec = REPORTS.get(report)
    if spec is None:
        raise ParameterError(_("unknown report '{report}' (valid: {valid})").format(
            report=report, valid=", ".join(REPORTS)))
    declared = declared if declared is not None else declared_parameters(spec.notebook)
    for name, value in parameters.items():
        if name not in declared:
            raise ParameterError(
                _("report '{report}' ({notebook}): unknown parameter '{name}' "
                  "(declared: {declared})").format(report=report, notebook=spec.notebook.name,
                                                   name=name, declared=", ".join(declared)))
        type_name = str(declared[name].get("inferred_type_name", "None"))
        expected = _TYPES.get(type_name)
        if expected is None:
            continue  # untyped declaration: papermill passes it as it is
        ok = isinstance(value, expected) and not (type_name in ("int", "float")
                                                  and isinstance(value, bool))
        if not ok:
            raise ParameterError(
                _("report '{report}' ({notebook}): parameter '{name}' must be "
                  "{type}, got {got} {value}").format(
                    report=report, notebook=spec.notebook.name, name=name, type=type_name,
                    got=type(value).__name__, value=repr(value)))


# --------------------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------------------
def plan_jobs(quarter: str, units: str | Sequence[str] = "all", reports: str | Sequence[str] = "all",
              out_root: str | Path = OUTPUTS_DIR, parameters: Mapping[str, Any] | None = None,
              policy: str = "xiongan-2023", month: str = "", as_of: str = ""
              ) -> list[RenderJob]:
    """Jobs for ``reports`` x ``units`` of ``quarter``, each with validated parameters.

    ``parameters`` are passed to every notebook (e.g. ``ledger``, ``results``); ``quarter``,
    ``unit``, ``policy`` and ``output_dir`` are set per job. With ``month`` (``YYYY-MM``) the
    only report is the notice of that month, written to the month's quarter directory.
    ``as_of`` (``YYYY-MM-DD``) is the statistics table's 数据截止日期 (default: its deadline).
    """

    q = Quarter.parse(quarter)
    pol = load_policy(policy)
    all_units = [u.id for u in pol.units]
    chosen_units = all_units if units == "all" else list(
        [units] if isinstance(units, str) else units)
    unknown = [u for u in chosen_units if u not in all_units]
    if unknown:
        raise ParameterError(_("unknown unit '{unit}' (valid: all, {valid})").format(
            unit=unknown[0], valid=", ".join(all_units)))
    chosen_reports = list(REPORTS) if reports == "all" else list(
        [reports] if isinstance(reports, str) else reports)
    for r in chosen_reports:
        if r not in REPORTS:
            raise ParameterError(_("unknown report '{report}' (valid: all, {valid})").format(
                report=r, valid=", ".join(REPORTS)))
    # The notebooks run in their own folder: every path they are given must be absolute.
    out_root = Path(out_root).absolute()
    out_dir = out_root / q.label
    extra: dict[str, Any] = {}
    if month:
        if chosen_reports != ["notice"] and reports != "all":
            raise ParameterError(_("--month {month} renders the monthly results notice only "
                                   "(not {reports})").format(
                month=month, reports=", ".join(r for r in chosen_reports if r != "notice")))
        chosen_reports = ["notice"]
        out_dir = out_root / month_quarter(month).label
        extra = {"month": month}
    level = {u.id: u.level for u in pol.units}
    jobs = []
    for report in chosen_reports:
        spec = REPORTS[report]
        declared = declared_parameters(spec.notebook)
        for unit in chosen_units:
            if level[unit] not in spec.levels:
                continue
            params = {**dict(parameters or {}), "quarter": q.label, "unit": unit,
                      "policy": policy, "output_dir": str(out_dir), **extra}
            if as_of and report == "statistics":
                params["as_of"] = as_of
            if "numbers" in declared and "numbers" not in params:
                # the 发文字号 register beside the quarters (documents.numbers)
                params["numbers"] = str(register_path(out_root))
            validate_parameters(report, params, declared)
            jobs.append(RenderJob(report, unit, q.label, params, out_dir))
    if not jobs:
        raise ParameterError(_("no report applies to unit(s) {units} for report(s) "
                               "{reports}").format(units=", ".join(chosen_units),
                                                   reports=", ".join(chosen_reports)))
    return jobs


def _failed_cell(nb_path: Path) -> str:
    import nbformat

    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except Exception:  # pragma: no cover - partial file unreadable
        return "unknown cell"
    for idx, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = (cell.source.strip().splitlines() or [""])[0][:80]
                return f"cell {idx} (execution {cell.get('execution_count')}: '{first}')"
    return "unknown cell"


#: Print rules for an exported report: within A4, wide tables shrink instead of being cut.
PRINT_CSS = """
<style>
@page { size: A4; margin: 15mm 12mm; }
@media print {
  body { margin: 0; }
  .jp-Cell, .jp-OutputArea, .jp-RenderedHTMLCommon { max-width: 100% !important; }
  table { width: 100% !important; table-layout: fixed; font-size: 8pt; page-break-inside: auto; }
  tr { page-break-inside: avoid; }
  thead { display: table-header-group; }
  td, th { word-break: keep-all; overflow-wrap: anywhere; padding: 1px 2px !important; }
  img { max-width: 100% !important; }
}
</style>
"""


_EXPORTERS: dict[tuple[int, int], Any] = {}


def _exporter():
    """The HTML exporter of this process (its templates loaded once)."""
    import threading

    key = (os.getpid(), threading.get_ident())
    exporter = _EXPORTERS.get(key)
    if exporter is None:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor

        exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True)
        remove = TagRemovePreprocessor(remove_cell_tags={"internal"}, enabled=True)
        exporter.register_preprocessor(remove, enabled=True)
        _EXPORTERS[key] = exporter
    return exporter


def export_html(nb_path: Path, html_path: Path, title: str, nb: Any = None) -> Path:
    """HTML of an executed notebook without code cells, prompts or the cells tagged
    ``internal``; printable within A4. ``nb``: the notebook at ``nb_path`` already read."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb) if nb is not None else nbformat.read(str(nb_path), as_version=4)
    nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = re.sub(r"<html[^>]*>", '<html lang="zh-CN">', body, count=1)
    body = body.replace("</head>", PRINT_CSS + "</head>", 1)
    from .documents.layout import write_atomically

    return write_atomically(html_path, lambda tmp: tmp.write_text(body, encoding="utf-8"))


def _os_failure(job: RenderJob, exc: OSError | str) -> FileSystemError:
    reason = os_message(exc) if isinstance(exc, OSError) else exc
    return FileSystemError(_("{reason} (operating system): report '{report}', unit '{unit}', "
                             "{quarter} not rendered; its earlier documents are unchanged").format(
        reason=reason, report=job.report, unit=job.unit, quarter=job.quarter))


def _keep_failed(nb_out: Path, out_dir: Path) -> Path | None:
    """Move a failed job's partial notebook to ``out_dir/failed/`` (None if there is none or
    it cannot be kept)."""
    if not nb_out.is_file():
        return None
    kept = out_dir / FAILED / nb_out.name
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(nb_out, kept)
    except OSError:
        return None
    return kept


class _NotebookFailed(Exception):
    """A notebook stopped on an error (not the operating system's) in ``cell``."""

    def __init__(self, cell: str, ename: str, evalue: str, partial: Path | None) -> None:
        super().__init__(f"{ename}: {evalue}")
        self.cell, self.ename, self.evalue, self.partial = cell, ename, evalue, partial


def _failure(job: RenderJob, failed: _NotebookFailed, kept: Path | None) -> RenderError:
    where = (f"partial notebook kept for inspection: {kept}" if kept
             else "no partial notebook")
    return RenderError(
        f"report '{job.report}', unit '{job.unit}', {job.quarter}: failed in "
        f"{failed.cell}: {failed.ename}: {failed.evalue} ({where}; earlier documents "
        "unchanged)")


#: The id of the cell papermill injects (papermill gives it a random one: the same render
#: would differ from run to run in its notebook and web page).
INJECTED_ID = "injected-parameters"


def _stage(job: RenderJob, kernel: Any = None) -> None:
    """Execute the job's notebook with papermill into its staging folder (in ``kernel``, a
    :class:`~dsr_analysis.renderpool.WarmKernel`, or in a fresh kernel) and export it to
    HTML. A failing notebook raises :class:`_NotebookFailed` (its partial notebook left in
    the staging folder), an operating-system error :class:`FileSystemError` (nothing
    staged)."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    spec = REPORTS[job.report]
    month = job.parameters.get("month", "")
    stem = job.file_stem
    staging = job.staging
    try:
        discard(staging)
        staging.mkdir(parents=True)
    except OSError as exc:
        raise _os_failure(job, exc) from None
    nb_out = staging / f"{stem}.ipynb"
    parameters = dict(job.parameters)
    if parameters.get("output_dir"):
        parameters["output_dir"] = str(staging)  # the notebook writes its documents here
    try:
        if kernel is not None:
            from .renderpool import ENGINE, register_engine

            register_engine()
            papermill.execute_notebook(str(spec.notebook), str(nb_out),
                                       parameters=parameters, kernel_name="python3",
                                       progress_bar=False, engine_name=ENGINE, kernel=kernel)
        else:
            from traitlets.config import Config

            # Kernels talk over IPC sockets in a directory of their own, not over TCP:
            # parallel workers picking "free" TCP ports at the same moment can collide
            # ("Address already in use"), and IPC paths left to their default are shared
            # through the working directory.
            with tempfile.TemporaryDirectory(prefix="dsr-kernel-") as ipc_dir:
                config = Config({"KernelManager": {"transport": "ipc",
                                                   "ip": os.path.join(ipc_dir, "kernel")}})
                papermill.execute_notebook(str(spec.notebook), str(nb_out),
                                           parameters=parameters, kernel_name="python3",
                                           progress_bar=False, cwd=str(NOTEBOOKS_DIR),
                                           config=config)
    except PapermillExecutionError as exc:
        if exc.ename in OS_ERRORS:
            discard(staging)
            raise _os_failure(job, str(exc.evalue)) from None
        raise _NotebookFailed(_failed_cell(nb_out), exc.ename, exc.evalue,
                              nb_out if nb_out.is_file() else None) from None
    except OSError as exc:
        discard(staging)
        raise _os_failure(job, exc) from None
    except Exception as exc:
        discard(staging)
        raise RenderError(_("report '{report}', unit '{unit}', {quarter}: {error}: "
                            "{message}").format(report=job.report, unit=job.unit,
                                                quarter=job.quarter, error=type(exc).__name__,
                                                message=exc)) from None
    try:
        nb = nbformat.read(str(nb_out), as_version=4)
        injected = [c for c in nb.cells
                    if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
        for cell in injected:
            cell["id"] = INJECTED_ID
        if injected:
            nbformat.write(nb, str(nb_out))
        unit_name = load_policy(job.parameters.get("policy", "xiongan-2023")).unit_names[job.unit]
        period = (f"{int(month[:4])}年{int(month[5:])}月" if month
                  else Quarter.parse(job.quarter).label_zh)
        export_html(nb_out, staging / f"{stem}.html", f"{unit_name}{period}{spec.title_zh}",
                    nb=nb)
    except OSError as exc:
        discard(staging)
        raise _os_failure(job, exc) from None
    except BaseException:
        discard(staging)
        raise


def _publish(job: RenderJob, start: float) -> Rendered:
    """Move the job's staged files into place as a set (:func:`publish`)."""
    staging = job.staging
    stem = job.file_stem
    try:
        placed = publish(staging, job.out_dir, job.out_dir / FAILED)
    except OSError as exc:
        if not (staging / MANIFEST).is_file():  # nothing moved yet
            discard(staging)
            raise _os_failure(job, exc) from None
        raise FileSystemError(
            _("{reason} (operating system): the files of report '{report}', unit '{unit}', "
              "{quarter} are complete in {staging}; the next render of {folder} moves them "
              "into place").format(reason=os_message(exc), report=job.report, unit=job.unit,
                                   quarter=job.quarter, staging=staging,
                                   folder=job.out_dir.name)) from None
    files = tuple(p for p in placed if p.suffix in (".docx", ".pdf", ".xlsx"))
    return Rendered(job, job.out_dir / f"{stem}.ipynb", job.out_dir / f"{stem}.html", files,
                    time.perf_counter() - start)


def run_job(job: RenderJob, kernel: Any = None) -> Rendered:
    """Execute one report notebook with papermill into its staging folder, export it to HTML,
    then move its files into place as a set (:func:`publish`). A failure leaves the earlier
    documents of the report as they were and nothing staged.

    ``kernel``: a :class:`~dsr_analysis.renderpool.WarmKernel` to run the notebook in (reset
    first); default: a fresh kernel for this notebook."""
    start = time.perf_counter()
    try:
        _stage(job, kernel)
    except _NotebookFailed as failed:
        kept = _keep_failed(failed.partial, job.out_dir) if failed.partial else None
        discard(job.staging)
        raise _failure(job, failed, kept) from None
    return _publish(job, start)


def recover_staging(out_dir: Path) -> list[str]:
    """What an interrupted render left in ``out_dir/.staging/``: a report staged completely
    is moved into place, everything else deleted (:func:`dsr_analysis.staging.recover`);
    returns what was done. Call with the folder's lock held."""
    return recover(Path(out_dir), Path(out_dir) / FAILED)


def _die_with_parent() -> None:  # pragma: no cover - runs in the worker processes
    """A worker process dies with the render that started it (Linux ``PR_SET_PDEATHSIG``):
    a killed render leaves no worker writing on."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def prepared_path(out_dir: Path, parameters: Mapping[str, Any]) -> Path:
    """Where a render keeps the inputs it read and validated once (by their arguments)."""
    import hashlib

    key = "\x1f".join(f"{k}={parameters.get(k, '')}" for k in sorted(parameters))
    return out_dir / ".prepared" / f"inputs-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pkl"


def prepare(jobs: Sequence[RenderJob], staging: Path | None = None) -> None:
    """Read and validate the inputs of the jobs once (every job of a render shares them) and
    pass the prepared file to each job: registers, ledger, results and deliveries are checked
    before any notebook starts (a bad input raises here: nothing rendered). The file is
    written in ``staging`` (default: the jobs' staging area) and renamed into ``.prepared/``."""
    from .reports import prepare_report_inputs

    p = jobs[0].parameters
    args = {k: p.get(k, "") for k in ("quarter", "policy", "registers", "ledger", "results",
                                      "deliveries", "month", "followups")}
    path = prepared_path(jobs[0].out_dir, args)
    staging = staging if staging is not None else jobs[0].staging.parent
    try:
        staging.mkdir(parents=True, exist_ok=True)
        staged = staging / path.name
        prepare_report_inputs(staged, **args)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, path)
    except OSError as exc:
        raise FileSystemError(_("{reason} (operating system): cannot write the render's "
                                "prepared inputs {path}; nothing rendered").format(
            reason=os_message(exc), path=path)) from None
    for job in jobs:
        job.parameters["prepared"] = str(path)


def render(quarter: str, units: str | Sequence[str] = "all", reports: str | Sequence[str] = "all",
           out_root: str | Path = OUTPUTS_DIR, parameters: Mapping[str, Any] | None = None,
           policy: str = "xiongan-2023", workers: int | None = None, month: str = "",
           progress: bool = False, as_of: str = "", scheduler: Any = None,
           warm: bool = True, keep_workers: bool = False) -> RenderSummary:
    """Render reports x units of a quarter (or the notices of ``month``) in parallel and write
    the index page.

    Every job's parameters are validated, and the inputs read and validated once, before the
    first notebook runs. Jobs that fail are collected; after the batch a :class:`RenderError`
    lists every failure (the reports that succeeded stay rendered and the index links them).
    ``progress`` shows a progress bar over the jobs (on standard error).

    Where the notebooks run (papermill runs each of them either way):

    * ``scheduler`` None (and no ``DASK_SCHEDULER_ADDRESS``) or ``"none"``: on this machine,
      ``workers`` processes (default: one per core), each with a warm kernel
      (:mod:`dsr_analysis.renderpool`: started and loaded while the inputs are read, reset
      between notebooks);
    * ``"local"`` (a Dask ``LocalCluster`` of ``workers`` processes), a scheduler address
      (``tcp://host:8786``) or a ``distributed.Client``: one Dask task per report x unit
      (see :func:`render_on_worker`); the files are the same as on this machine.

    ``warm=False`` runs every notebook in a fresh kernel instead (slower; the same files).
    ``keep_workers=True`` keeps the worker processes and their warm kernels for the next
    render of this process with as many workers (a demo rendering quarter after quarter);
    :func:`close_workers` (or the process's exit) shuts them down.

    Each report's files appear together or not at all, the index only once they are in place;
    an operating-system error (a full disk) stops the batch with
    :class:`~dsr_analysis.errors.FileSystemError` naming the path (see the module's "Faults").
    """
    from .distributed import resolve_scheduler

    if as_of:
        try:
            dt.date.fromisoformat(as_of)
        except ValueError:
            raise ParameterError(_("--as-of {as_of} is not a date: write YYYY-MM-DD").format(
                as_of=as_of)) from None
    target = resolve_scheduler(scheduler)
    jobs = plan_jobs(quarter, units, reports, out_root, parameters, policy, month, as_of)
    out_dir = jobs[0].out_dir
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileSystemError(_("{reason} (operating system): cannot make the reports' "
                                "folder; nothing rendered").format(
            reason=os_message(exc))) from None
    if target is None:
        workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    start = time.perf_counter()
    with exclusive(out_dir / ".render", LOCK_TIMEOUT,
                   holder=f"another render into {out_dir} has held the folder"):
        recovered = recover_staging(out_dir)
        run = f"run-{os.getpid()}-{secrets.token_hex(4)}"
        jobs = [replace(job, run=run) for job in jobs]
        staging = out_dir / STAGING / run
        try:
            # the workers (and their kernels) start while the inputs are read
            runner = (_LocalRunner(workers, warm, keep_workers) if target is None
                      else _DaskRunner(target, workers, warm))
            try:
                prepare(jobs, staging)
                rendered, failures, os_failure = runner.run(jobs, progress)
            finally:
                runner.close()
            workers = runner.workers
            index = out_dir / "index.html"
            try:
                if os_failure is None or rendered:
                    write_index(out_dir, out_dir.name, rendered, policy, failures,
                                tmp_dir=staging)
            except OSError as exc:
                if os_failure is None:
                    raise FileSystemError(_("{reason} (operating system): the reports are "
                                            "in place, the index is the earlier one").format(
                        reason=os_message(exc))) from None
            if os_failure is not None:
                raise os_failure  # the first, in one line; the batch stopped there
        finally:
            clean_run(staging)
    summary = RenderSummary(out_dir.name, tuple(rendered), index,
                            time.perf_counter() - start, workers, tuple(failures),
                            tuple(recovered))
    if failures:
        raise RenderError(_("{failed} of {n} report(s) failed:").format(
            failed=len(failures), n=len(jobs)) + "\n" + "\n".join(failures))
    return summary


#: Relative cost of a report's job (a notice has a document per month, the official
#: documents are laid out twice): the batch starts the longest first, so that no worker
#: is left with a long job at the end while the others wait.
JOB_WEIGHT = {"notice": 3.0, "summary": 2.5, "evaluation": 2.5, "annual_plan": 2.0,
              "statistics": 1.5}


def _longest_first(jobs: Sequence[RenderJob]) -> list[int]:
    """The jobs' indices, the heaviest first (job order among equals)."""
    return sorted(range(len(jobs)), key=lambda i: (-JOB_WEIGHT.get(jobs[i].report, 1.0), i))


def _bar(jobs: Sequence[RenderJob], progress: bool):
    from tqdm import tqdm

    from .i18n import _

    period = jobs[0].parameters.get("month") or jobs[0].quarter
    return tqdm(total=len(jobs), desc=_("{period} reports").format(period=period),
                unit=_("report (unit of the progress bar)"),
                disable=None if progress else True, leave=False)  # None: on a terminal only


# --------------------------------------------------------------------------------------
# On this machine: a process pool, a warm kernel per process
# --------------------------------------------------------------------------------------
def _noop() -> None:  # pragma: no cover - runs in the worker processes
    """A task that makes the pool start a worker process (and its kernel)."""
    time.sleep(0.05)


def _worker_init(warm: bool) -> None:  # pragma: no cover - runs in the worker processes
    """A render's worker process: dies with the render; with ``warm``, starts its kernel
    (loading while the render reads the inputs) and shuts it down when the pool ends."""
    _die_with_parent()
    if not warm:
        return
    from multiprocessing import util

    from .renderpool import close_process_kernels, process_kernel

    util.Finalize(None, close_process_kernels, exitpriority=10)
    try:
        process_kernel(NOTEBOOKS_DIR, wait=False)
    except Exception:  # the first job starts it again and names the error
        pass


def _run_in_worker(job: RenderJob, warm: bool) -> Rendered:  # pragma: no cover - in workers
    return run_job(job, _kernel(job) if warm else None)


def _kernel(job: RenderJob):
    """This process's warm kernel; a kernel that cannot start is the job's RenderError."""
    from .renderpool import process_kernel

    try:
        return process_kernel(NOTEBOOKS_DIR)
    except Exception as exc:
        raise RenderError(_("report '{report}', unit '{unit}', {quarter}: the kernel did not "
                            "start: {error}: {message}").format(
            report=job.report, unit=job.unit, quarter=job.quarter, error=type(exc).__name__,
            message=exc)) from None


#: Workers kept for the next render of this process (``render(keep_workers=True)``):
#: ``(workers, warm)`` -> pool, and the warm kernel of a one-worker render.
_KEPT: dict[Any, Any] = {}


def close_workers() -> None:
    """Shut down the workers and kernels kept by ``render(keep_workers=True)``."""
    for key in list(_KEPT):
        kept = _KEPT.pop(key)
        if isinstance(kept, ProcessPoolExecutor):
            kept.shutdown(wait=True, cancel_futures=True)
        else:
            kept.close()


class _LocalRunner:
    """The jobs on this machine: in this process (one worker) or a pool of processes;
    ``keep``: the pool (or the kernel) stays for the next render of this process."""

    def __init__(self, workers: int, warm: bool, keep: bool = False) -> None:
        self.workers, self.warm, self.keep = workers, warm, keep
        self.pool: ProcessPoolExecutor | None = None
        self.kernel = None
        if workers > 1:
            self.pool = _KEPT.pop((workers, warm), None) if keep else None
            if self.pool is None:
                self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                                                initargs=(warm,))
                for _i in range(workers):
                    self.pool.submit(_noop)
        elif warm:
            from .renderpool import WarmKernel

            self.kernel = _KEPT.pop("kernel", None) if keep else None
            if self.kernel is None:
                try:
                    self.kernel = WarmKernel(NOTEBOOKS_DIR, wait=False)
                except Exception:  # the first job names the error
                    self.kernel = None
        if keep and not _KEPT.get("atexit"):
            import atexit

            atexit.register(close_workers)
            _KEPT["atexit"] = _Flag()

    def close(self) -> None:
        from concurrent.futures.process import BrokenProcessPool

        if self.pool is not None:
            usable = self.keep
            try:
                if usable:
                    self.pool.submit(_noop)
            except (RuntimeError, BrokenProcessPool):  # shut down or broken: not kept
                usable = False
            if usable:
                _KEPT[(self.workers, self.warm)] = self.pool
            else:
                self.pool.shutdown(wait=True, cancel_futures=True)
        if self.kernel is not None:
            if self.keep and self.kernel.alive:
                _KEPT["kernel"] = self.kernel
            else:
                self.kernel.close()

    def run(self, jobs: Sequence[RenderJob], progress: bool
            ) -> tuple[list[Rendered], list[str], FileSystemError | None]:
        """Run the jobs: the rendered ones in job order, the failures' messages, and the
        first operating-system error (after which no further job starts)."""
        from concurrent.futures import as_completed

        done: dict[int, Rendered] = {}
        failures: list[str] = []
        os_failure: FileSystemError | None = None
        bar = _bar(jobs, progress)
        if self.pool is None:
            for i, job in enumerate(jobs):
                try:
                    kernel = None
                    if self.warm:
                        if self.kernel is None or not self.kernel.alive:
                            self._restart(job)
                        kernel = self.kernel
                    done[i] = run_job(job, kernel)
                except RenderError as exc:
                    failures.append(str(exc))
                except FileSystemError as exc:
                    os_failure = exc
                    break
                bar.update()
        else:
            pool = self.pool
            futures = {pool.submit(_run_in_worker, jobs[i], self.warm): i
                       for i in _longest_first(jobs)}
            for fut in as_completed(futures):
                try:
                    done[futures[fut]] = fut.result()
                except RenderError as exc:
                    failures.append(str(exc))
                except FileSystemError as exc:
                    if os_failure is None:
                        os_failure = exc
                        pool.shutdown(wait=False, cancel_futures=True)
                except CancelledError:
                    pass
                bar.update()
        bar.close()
        return [done[i] for i in sorted(done)], failures, os_failure

    def _restart(self, job: RenderJob) -> None:
        from .renderpool import WarmKernel

        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None
        try:
            self.kernel = WarmKernel(NOTEBOOKS_DIR)
        except Exception as exc:
            raise RenderError(_("report '{report}', unit '{unit}', {quarter}: the kernel did "
                                "not start: {error}: {message}").format(
                report=job.report, unit=job.unit, quarter=job.quarter,
                error=type(exc).__name__, message=exc)) from None


# --------------------------------------------------------------------------------------
# On a Dask cluster
# --------------------------------------------------------------------------------------
_SHIPPED: dict[str, Path] = {}


def _worker_root() -> Path:
    """This worker process's folder for the notebooks it runs and the inputs it was sent."""
    return Path(tempfile.gettempdir()) / f"dsr-render-{os.getpid()}"


def _shipped_inputs(prepared: bytes) -> Path:
    """The prepared inputs sent to this worker, as a file of its own (written once)."""
    import hashlib

    digest = hashlib.sha256(prepared).hexdigest()[:24]
    path = _SHIPPED.get(digest)
    if path is None or not path.is_file():
        from .documents.layout import write_atomically

        path = _worker_root() / "prepared" / f"inputs-{digest}.pkl"
        write_atomically(path, lambda tmp: tmp.write_bytes(prepared))
        _SHIPPED[digest] = path
    return path


def render_on_worker(job: RenderJob, prepared: bytes, warm: bool = True) -> tuple:
    """One report x unit as a Dask task: the notebook runs with papermill (in the worker's
    warm kernel) in a folder of the worker's own, on the prepared inputs the render sent
    once to every worker (``prepared``: the bytes of its prepared file); the files come
    back to the render, which places them (the worker writes nothing into the outputs).

    Returns ``("ok", {name: bytes}, seconds)``, ``("failed", cell, ename, evalue,
    partial notebook bytes or None)``, ``("os", message)`` or ``("error", message)``.

    The workers need this package (same version) and, for the summary and the evaluation,
    the outputs folder at the same path (its 发文字号 register, one for every worker), and
    for the annual plan with a ledger, the ledger at the same path (its recorded
    revisions): a shared file system, as on a ``LocalCluster``."""
    import socket

    start = time.perf_counter()
    numbers = job.parameters.get("numbers", "")
    if numbers and not Path(numbers).parent.is_dir():
        return ("error", f"report '{job.report}', unit '{job.unit}', {job.quarter}: the "
                         f"document-number register {numbers} is not reachable on worker "
                         f"{socket.gethostname()} (mount the outputs folder at the same "
                         "path on every worker)")
    try:
        path = _shipped_inputs(prepared)
    except OSError as exc:
        return ("os", str(_os_failure(job, exc)))
    local = replace(job, out_dir=_worker_root() / "out" / job.out_dir.name,
                    parameters={**job.parameters, "prepared": str(path)})
    try:
        _stage(local, _kernel(job) if warm else None)
    except _NotebookFailed as failed:
        partial = None
        if failed.partial is not None and failed.partial.is_file():
            partial = failed.partial.read_bytes()
        discard(local.staging)
        return ("failed", failed.cell, failed.ename, str(failed.evalue), partial)
    except FileSystemError as exc:
        return ("os", str(exc))
    except RenderError as exc:
        return ("error", str(exc))
    try:
        files = {p.name: p.read_bytes() for p in sorted(local.staging.iterdir())
                 if p.is_file() and not p.name.startswith(".")}
    except OSError as exc:
        return ("os", str(_os_failure(job, exc)))
    finally:
        discard(local.staging)
    return ("ok", files, time.perf_counter() - start)


class _Flag:
    """A marker in :data:`_KEPT` (``close()`` does nothing)."""

    def close(self) -> None:
        pass


class _DaskRunner:
    """The jobs as Dask tasks (:func:`render_on_worker`), placed here as they finish."""

    def __init__(self, target: Any, workers: int | None, warm: bool) -> None:
        from .distributed import open_executor

        self.executor = open_executor(target, workers)
        self.workers = self.executor.workers
        self.warm = warm

    def close(self) -> None:
        if self.executor.owned:  # a cluster of this render: its kernels go first
            from .renderpool import close_process_kernels

            try:
                self.executor.client.run(close_process_kernels)
            except Exception:  # pragma: no cover - a worker already gone
                pass
        self.executor.close()

    def run(self, jobs: Sequence[RenderJob], progress: bool
            ) -> tuple[list[Rendered], list[str], FileSystemError | None]:
        from distributed import as_completed

        client = self.executor.client
        blob = Path(jobs[0].parameters["prepared"]).read_bytes()
        shipped = client.scatter([blob], broadcast=True, hash=False)[0]  # once per worker
        order = _longest_first(jobs)
        futures = {client.submit(render_on_worker, jobs[i], shipped, self.warm, pure=False,
                                 priority=len(jobs) - rank): i
                   for rank, i in enumerate(order)}
        done: dict[int, Rendered] = {}
        failures: list[str] = []
        os_failure: FileSystemError | None = None
        bar = _bar(jobs, progress)
        for fut in as_completed(list(futures)):
            i = futures[fut]
            job = jobs[i]
            if os_failure is not None:
                continue
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker died or the task could not run
                failures.append(f"report '{job.report}', unit '{job.unit}', {job.quarter}: "
                                f"{type(exc).__name__}: {exc}")
                bar.update()
                continue
            kind = outcome[0]
            try:
                if kind == "ok":
                    done[i] = self._place(job, outcome[1], outcome[2])
                elif kind == "failed":
                    _cell, ename, evalue, partial = outcome[1:]
                    kept = _keep_partial(job, partial)
                    failures.append(str(_failure(job, _NotebookFailed(_cell, ename, evalue,
                                                                       None), kept)))
                elif kind == "os":
                    raise FileSystemError(outcome[1])
                else:
                    failures.append(outcome[1])
            except FileSystemError as exc:
                os_failure = exc
                client.cancel([f for f in futures if not f.done()])
            bar.update()
        bar.close()
        return [done[i] for i in sorted(done)], failures, os_failure

    @staticmethod
    def _place(job: RenderJob, files: Mapping[str, bytes], seconds: float) -> Rendered:
        """Stage the files a worker sent, then move them into place as a set."""
        start = time.perf_counter()
        staging = job.staging
        try:
            discard(staging)
            staging.mkdir(parents=True)
            for name, data in files.items():
                (staging / name).write_bytes(data)
        except OSError as exc:
            discard(staging)
            raise _os_failure(job, exc) from None
        return _publish(job, start - seconds)


def _keep_partial(job: RenderJob, partial: bytes | None) -> Path | None:
    """A failed job's partial notebook, sent by its worker, kept in ``failed/``."""
    if partial is None:
        return None
    kept = job.out_dir / FAILED / f"{job.file_stem}.ipynb"
    try:
        from .documents.layout import write_atomically

        return write_atomically(kept, lambda tmp: tmp.write_bytes(partial))
    except OSError:
        return None


# --------------------------------------------------------------------------------------
# Index page
# --------------------------------------------------------------------------------------
_FORM_ZH = {"html": "网页", "docx": "Word", "pdf": "PDF", "xlsx": "表格"}
_REVIEW_ZH = "审核材料（内部）"


def write_index(out_dir: Path, quarter: str, rendered: Sequence[Rendered],
                policy: str = "xiongan-2023", failures: Sequence[str] = (),
                tmp_dir: Path | None = None, draws_dir: Path | None = None) -> Path:
    """``index.html``: one row per report, one column per unit, links to every form (web
    page, Word, PDF, XLSX; a notice per month). Reports already in the directory from earlier
    runs of the same quarter are kept. Written atomically (its temporary file in
    ``tmp_dir``, by default beside it). The quarter's draws (``draws_dir``, by default
    ``draws/{quarter}`` beside ``out_dir``) are linked: announcement, record, observer page."""
    from .documents.layout import write_atomically
    from .draw.observer import draw_links_html

    pol = load_policy(policy)
    q = Quarter.parse(quarter)
    out_dir.mkdir(parents=True, exist_ok=True)
    head = "".join(f"<th>{html.escape(u.name)}</th>" for u in pol.units)
    rows = []
    for name, spec in REPORTS.items():
        cells = []
        for u in pol.units:
            stem = f"{name}-{u.id}"
            groups: dict[str, list[Path]] = {}
            pattern = re.compile(re.escape(stem)
                                 + r"(-(\d{4})-(\d{2}))?(\.review)?\.(html|docx|pdf|xlsx)$")
            for f in sorted(out_dir.glob(f"{stem}*")):
                m = pattern.fullmatch(f.name)
                if m:
                    month = f"{int(m.group(2))}年{int(m.group(3))}月" if m.group(1) else ""
                    groups.setdefault(month, []).append(f)
            if not groups:
                cells.append("<td class='na'>—</td>")
                continue
            lines = []
            for month, files in groups.items():
                order = {"html": 0, "docx": 1, "xlsx": 2, "pdf": 3}
                files = sorted(files, key=lambda f: (f.name.endswith(".review.pdf"),
                                                     order[f.suffix[1:]]))
                links = " · ".join(
                    f"<a href='{html.escape(f.name)}'>"
                    f"{_REVIEW_ZH if f.name.endswith('.review.pdf') else _FORM_ZH[f.suffix[1:]]}</a>"
                    for f in files)
                lines.append(f"<div>{html.escape(month)} {links}</div>" if month
                             else f"<div>{links}</div>")
            cells.append(f"<td>{''.join(lines)}</td>")
        rows.append(f"<tr><th scope='row'>{html.escape(spec.title_zh)}</th>{''.join(cells)}</tr>")
    failed = ""
    if failures:
        items = "".join(f"<li>{html.escape(f)}</li>" for f in failures)
        failed = f"<h2>生成失败</h2><ul class='fail'>{items}</ul>"
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(q.label_zh)}“双随机、一公开”监管报告</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei",
       sans-serif; margin: 2em auto; max-width: 64em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #999; padding: .5em .8em; text-align: left; vertical-align: top; }}
thead th {{ background: #eef2f7; text-align: center; }}
td div + div {{ margin-top: .3em; }}
.na {{ color: #bbb; text-align: center; }}
.fail {{ color: #b00; }}
</style></head><body>
<h1>{html.escape(pol.name)}</h1>
<h2>{html.escape(q.label_zh)}报告</h2>
<table><thead><tr><th>报告</th>{head}</tr></thead><tbody>
{''.join(rows)}
</tbody></table>
{draw_links_html(draws_dir or out_dir.parent / "draws" / quarter, out_dir,
                 {u.id: u.name for u in pol.units})}{failed}
<p>考核评估通报由新区生态环境局对三县作出，仅列于新区本级。网页供浏览；报送和公开使用Word、PDF和表格文件。</p>
</body></html>
"""
    return write_atomically(out_dir / "index.html",
                            lambda tmp: tmp.write_text(page, encoding="utf-8"), tmp_dir)
