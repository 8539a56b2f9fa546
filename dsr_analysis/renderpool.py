"""Warm kernels for the report notebooks: one Jupyter kernel per worker process, started once,
its libraries imported once, reset between notebooks.

A fresh kernel per report spends most of the report's time starting Python and importing
pandas, matplotlib, WeasyPrint and the package (and WeasyPrint's first layout loading the
fonts). A :class:`WarmKernel` pays that once per worker process: it is started (over IPC
sockets in a folder of its own), imports what the report notebooks import and lays out one
small page, then runs one notebook after another. Papermill still runs every notebook: the
engine :data:`ENGINE` (:class:`WarmEngine`, papermill's nbclient engine given the warm
kernel's manager and client) executes it cell by cell as always.

**No state from one report in the next.** Before every notebook :meth:`WarmKernel.reset`
runs :func:`reset_kernel_state` in the kernel: the user namespace, the input and output
history and the execution counter as in a new session (IPython's ``reset``), every
matplotlib figure closed, matplotlib's ``rcParams``, pandas' options, the warning filters,
``sys.path``, the environment and the working directory as they were after the warm-up.
What stays is what a fresh kernel would build the same way: imported modules and the fonts
they loaded. A render's files are byte-identical to those of fresh kernels (tested: two
reports of two units in one warm kernel against a fresh kernel each).

A kernel lives as long as its worker: the render's pool (or a Dask worker process, which
keeps it for the next render and starts another when the previous one died). A kernel
polls its parent process and exits within a second of it (ipykernel's parent poller), so
a killed render leaves no kernel behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from .i18n import _

#: Name of the papermill engine executing a notebook in a warm kernel.
ENGINE = "dsr_warm"

#: What a report notebook imports, imported once per kernel (then one small page laid out
#: by WeasyPrint: its fonts loaded once).
WARM_UP = """
import pandas as _pd
from IPython.display import Markdown as _Markdown, display as _display
import dsr_analysis.notebook_params as _np
from dsr_analysis import official as _official, reports as _reports, amendments as _amendments
from dsr_analysis import plotting as _plotting
from dsr_analysis.documents import write_forms as _write_forms
import dsr_analysis.renderpool as _renderpool
_renderpool.warm_fonts()
_renderpool.snapshot_state()
"""

#: Run (silently, outside the history) before every notebook.
RESET = "__import__('dsr_analysis.renderpool', fromlist=['_']).reset_kernel_state()"

_SNAPSHOT: dict[str, Any] = {}


# --------------------------------------------------------------------------------------
# Inside the kernel
# --------------------------------------------------------------------------------------
def warm_fonts() -> None:  # pragma: no cover - runs in the kernel
    """Lay out one small page with the documents' fonts (WeasyPrint loads them once)."""
    import weasyprint

    from .documents import layout

    weasyprint.HTML(string=(
        f'<html lang="zh-CN"><body style="font-family: \'{layout.PDF_SERIF}\'">中文'
        f'<b style="font-family: \'{layout.PDF_SANS}\'">黑体 1</b></body></html>')).render()


def snapshot_state() -> None:  # pragma: no cover - runs in the kernel
    """Remember the process-wide settings after the warm-up, for :func:`reset_kernel_state`."""
    import copy
    import sys
    import warnings

    import matplotlib
    from pandas._config import config as pd_config

    _SNAPSHOT.update(
        rc=dict(matplotlib.rcParams.copy()),
        pandas=copy.deepcopy(pd_config._global_config),
        warnings=list(warnings.filters),
        path=list(sys.path),
        environ=dict(os.environ),
        cwd=os.getcwd(),
    )


def reset_kernel_state() -> None:  # pragma: no cover - runs in the kernel
    """The kernel as after its warm-up: a new IPython session (namespace, history, execution
    counter), no figure open, matplotlib's, pandas' and the warnings' settings, ``sys.path``,
    the environment and the working directory restored."""
    import gc
    import sys
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from pandas._config import config as pd_config

    plt.close("all")
    shell = get_ipython()
    # IPython's reset ends with a full garbage collection (0.2 s and more with pandas,
    # matplotlib and WeasyPrint loaded); Python's own collector runs as always instead.
    collect = gc.collect
    gc.collect = lambda *args, **kwargs: 0
    try:
        shell.reset(new_session=True)
    finally:
        gc.collect = collect
    shell.execution_count = 1
    if not _SNAPSHOT:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dict.update(matplotlib.rcParams, _SNAPSHOT["rc"])
        for key in [k for k in matplotlib.rcParams if k not in _SNAPSHOT["rc"]]:
            dict.__delitem__(matplotlib.rcParams, key)
    pd_config._global_config.clear()
    pd_config._global_config.update(_copy_nested(_SNAPSHOT["pandas"]))
    warnings.filters[:] = _SNAPSHOT["warnings"]
    warnings._filters_mutated()
    sys.path[:] = _SNAPSHOT["path"]
    for key in [k for k in os.environ if k not in _SNAPSHOT["environ"]]:
        del os.environ[key]
    for key, value in _SNAPSHOT["environ"].items():
        if os.environ.get(key) != value:
            os.environ[key] = value
    os.chdir(_SNAPSHOT["cwd"])


def _copy_nested(d: dict) -> dict:
    return {k: _copy_nested(v) if isinstance(v, dict) else v for k, v in d.items()}


# --------------------------------------------------------------------------------------
# In the worker process
# --------------------------------------------------------------------------------------
class WarmKernel:
    """A Python kernel started once and reused for notebook after notebook.

    ``cwd``: the notebooks' working directory. The kernel talks over IPC sockets in a
    temporary folder of its own (parallel workers never collide on TCP ports).
    """

    def __init__(self, cwd: str | Path, warm_up: bool = True, wait: bool = True) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync
        from traitlets.config import Config

        self._run_sync = run_sync
        self._ipc_dir = tempfile.mkdtemp(prefix="dsr-kernel-")
        config = Config({"KernelManager": {"transport": "ipc",
                                           "ip": os.path.join(self._ipc_dir, "kernel")}})
        self.cwd = str(cwd)
        self.thread = threading.get_ident()
        self.jobs = 0
        self._pending: str | None = None  # the warm-up, when not waited for
        self._pending_error = ""
        self.kc = None
        self.km = AsyncKernelManager(kernel_name="python3", config=config)
        try:
            # the input history in memory, as nbclient starts its kernels (not in the
            # profile's SQLite file, shared by every kernel of the machine)
            run_sync(self.km.start_kernel)(
                cwd=self.cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"])
            self.kc = self.km.client()
            self.kc.start_channels()
            if wait:
                run_sync(self.kc.wait_for_ready)(timeout=120)
            if warm_up:
                if wait:
                    self.execute(WARM_UP)
                else:  # queued: the kernel loads while the caller goes on
                    self._pending = self._send(WARM_UP)
        except BaseException:
            self.close()
            raise

    @property
    def alive(self) -> bool:
        try:
            return bool(self._run_sync(self.km.is_alive)())
        except Exception:
            return False

    def _send(self, code: str) -> str:
        return self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)

    def execute(self, code: str, timeout: float = 300) -> None:
        """Run ``code`` silently (no output, no history entry); raise RuntimeError if it
        (or a warm-up not waited for) fails."""
        msg_id = self._send(code)

        async def reply() -> dict:
            while True:
                msg = await self.kc.get_shell_msg(timeout=timeout)
                parent = msg["parent_header"].get("msg_id")
                if parent == self._pending:
                    self._pending = None
                    if msg["content"].get("status") != "ok":
                        self._pending_error = (f"{msg['content'].get('ename')}: "
                                               f"{msg['content'].get('evalue')}")
                if parent == msg_id:
                    return msg["content"]

        content = self._run_sync(reply)()
        if self._pending_error:
            raise RuntimeError(_("kernel warm-up: {error}").format(error=self._pending_error))
        if content.get("status") != "ok":
            raise RuntimeError(_("kernel: {error}: {message}").format(
                error=content.get("ename"), message=content.get("evalue")))

    def reset(self) -> None:
        """The kernel as after its warm-up (:func:`reset_kernel_state`)."""
        self.execute(RESET)

    def close(self) -> None:
        """Shut the kernel down and remove its sockets' folder."""
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km.has_kernel:
                self._run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # pragma: no cover - already gone
            pass
        finally:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)


_KERNELS: dict[tuple[int, str], WarmKernel] = {}
_LOCK = threading.Lock()


def process_kernel(cwd: str | Path, wait: bool = True) -> WarmKernel:
    """This process's warm kernel for notebooks run in ``cwd`` (started on first use, again
    if it died; one per thread: a kernel client belongs to its thread's event loop).
    ``wait=False``: return while it loads."""
    key = (threading.get_ident(), str(cwd))
    with _LOCK:
        kernel = _KERNELS.get(key)
        if kernel is not None and not kernel.alive:
            kernel.close()
            kernel = None
        if kernel is None:
            kernel = _KERNELS[key] = WarmKernel(cwd, wait=wait)
    return kernel


def close_process_kernels() -> None:
    """Shut down this process's warm kernels."""
    with _LOCK:
        for kernel in _KERNELS.values():
            kernel.close()
        _KERNELS.clear()


# --------------------------------------------------------------------------------------
# The papermill engine
# --------------------------------------------------------------------------------------
def _engine():
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class WarmEngine(NBClientEngine):
        """Papermill's nbclient engine in a :class:`WarmKernel` (``kernel=``), reset first."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, kernel: WarmKernel | None = None,
                                     **kwargs):
            if kernel is None:
                raise ValueError(f"papermill engine {ENGINE!r} needs kernel=WarmKernel")
            kernel.reset()
            timeout = execution_timeout or kwargs.get("timeout")
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=timeout,
                                 startup_timeout=start_timeout, kernel_name=kernel_name,
                                 log=logger, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, km=kernel.km, **final)
            client.kc = kernel.kc  # the kernel's own client: no sockets opened per notebook
            kernel.jobs += 1
            return client.execute()

    return WarmEngine


def register_engine() -> None:
    """Make :data:`ENGINE` known to papermill (once per process)."""
    from papermill.engines import papermill_engines

    if ENGINE not in papermill_engines._engines:
        papermill_engines.register(ENGINE, _engine())
