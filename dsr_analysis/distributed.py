"""Where the simulation's pieces run: in this process, or on a Dask cluster.

Every engine splits its work into pure tasks - one per chunk of replicates (and, for a
national register, per jurisdiction: one upper-level unit with the units below it,
:mod:`dsr_analysis.hierarchy`) - and hands them to an *executor*:

:class:`InProcess`
    the default: tasks run in this process, ``workers`` threads at a time (the engines'
    compiled kernels and numpy's generators release the GIL), exactly as before;
:class:`OnDask`
    tasks run on a ``dask.distributed`` cluster: a :class:`~distributed.LocalCluster` on
    this machine (``scheduler="local"``), or any cluster by its scheduler address
    (``scheduler="tcp://host:8786"``; ``DASK_SCHEDULER_ADDRESS`` when no scheduler is
    named), or a :class:`~distributed.Client` the caller already holds.

A task is a pure function of its inputs: its replicates' ``SeedSequence`` children, the
layout or model fixed before the first draw, the register partition. Each replicate's
stream is its own, so where a task runs and in which order tasks finish never change a
number: results on Dask equal the in-process results for the same seed (tested with a real
two-worker ``LocalCluster``). Large shared inputs (a layout, a register partition) are sent
once (``Client.scatter``) and referenced by the tasks.

What each worker needs: this package installed at the same version as the client (``pip
install dsr_analysis`` with its dependencies, ``dask[distributed]`` included; the numba
kernels compile on a worker's first task, or load from its cache directory) and memory for
``threads x chunk x objects x`` about 120 bytes (deterrence; 30 for coverage) plus the
partition it holds. Workers read no files: the register, the policy and the layout travel
with the tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from .errors import ParameterError
from .i18n import _, ngettext

#: Environment variable naming the scheduler of an existing cluster (Dask's own name).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: ``scheduler`` values meaning "in this process".
IN_PROCESS = ("none", "in-process", "")
#: ``scheduler`` value starting a LocalCluster on this machine.
LOCAL = "local"


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_scheduler(scheduler: Any = None) -> Any:
    """What ``scheduler`` names: ``None`` (in this process), ``"local"`` (a LocalCluster on
    this machine), a scheduler address, or a ``distributed.Client`` (passed through).

    ``None`` means :data:`SCHEDULER_ENV` if that is set, else in-process; ``"none"`` is
    in-process even when it is set; an address is ``tcp://``, ``tls://``, ``ws://``,
    ``wss://``, ``inproc://``, ``ucx://`` or ``host:port``.
    """
    if scheduler is None:
        env = os.environ.get(SCHEDULER_ENV, "").strip()
        return env or None
    if not isinstance(scheduler, str):
        if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):
            return scheduler  # a Client
        raise ParameterError(_("scheduler: expected an address, 'local', 'none' or a "
                               "distributed.Client, got {type}").format(
            type=type(scheduler).__name__))
    text = scheduler.strip()
    if text.lower() in IN_PROCESS:
        return None
    if text.lower() == LOCAL:
        return LOCAL
    schemes = ("tcp://", "tls://", "ws://", "wss://", "inproc://", "ucx://")
    host, sep, port = text.rpartition(":")
    if text.startswith(schemes) or (sep and host and port.isdigit()):
        return text
    raise ParameterError(_("scheduler: '{text}' is not a scheduler address (tcp://host:8786 "
                           "or host:8786), 'local' (a LocalCluster on this machine) or 'none' "
                           "(in this process)").format(text=text))


# --------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------
class InProcess:
    """Tasks in this process: run at once with ``workers == 1``, else on a pool of
    ``workers`` threads. Arguments that are futures of earlier tasks are waited for first."""

    distributed = False

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else int(workers)
        if self.workers < 1:
            raise ParameterError(_("workers: {workers} must be at least 1").format(
                workers=workers))
        self._pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None

    def scatter(self, obj: Any) -> Any:
        return obj

    def submit(self, fn: Callable, *args: Any) -> Future:
        args = tuple(_resolve(a) for a in args)
        if self._pool is None:
            f: Future = Future()
            try:
                f.set_result(fn(*args))
            except BaseException as exc:  # re-raised by gather
                f.set_exception(exc)
            return f
        return self._pool.submit(fn, *args)

    def gather(self, futures: Sequence[Future]) -> list:
        return [f.result() for f in futures]

    def on_done(self, future: Future, callback: Callable[[], None]) -> None:
        future.add_done_callback(lambda _f: callback())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def _resolve(arg: Any) -> Any:
    if isinstance(arg, Future):
        return arg.result()
    if isinstance(arg, list) and arg and all(isinstance(a, Future) for a in arg):
        return [a.result() for a in arg]
    return arg


class OnDask:
    """Tasks on a ``dask.distributed`` cluster through ``client``."""

    distributed = True

    def __init__(self, client: Any, owned: bool = False) -> None:
        self.client = client
        self.owned = owned  # close the client (and a LocalCluster it started) on close()

    @property
    def workers(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def scatter(self, obj: Any) -> Any:
        """One future holding ``obj`` whole, under a fresh key (a dict or list given to
        ``Client.scatter`` directly would be scattered item by item, a dict under its own
        keys)."""
        return self.client.scatter([obj], hash=False)[0]

    def submit(self, fn: Callable, *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def gather(self, futures: Sequence[Any]) -> list:
        return self.client.gather(list(futures))

    def on_done(self, future: Any, callback: Callable[[], None]) -> None:
        future.add_done_callback(lambda _f: callback())

    def close(self) -> None:
        if self.owned:
            cluster = getattr(self.client, "cluster", None)
            self.client.close()
            if cluster is not None:
                cluster.close()
            self.owned = False


#: glibc's mmap threshold for worker processes (bytes). Dask's nanny sets a fixed
#: ``MALLOC_TRIM_THRESHOLD_``, which also switches off glibc's adaptive mmap threshold: every
#: array above 128 KiB is then mapped and page-faulted afresh, and the engines' chunk
#: arrays (megabytes, allocated every quarter) ran 1.3-1.5x slower on a worker than here.
#: A fixed 64 MiB threshold keeps them on the heap, as in a plain process.
WORKER_MMAP_THRESHOLD = 64 * 2**20


def local_client(workers: int | None = None, threads_per_worker: int = 1,
                 processes: bool = True, memory_limit: str | float | None = "auto"):
    """A ``distributed.Client`` on a new :class:`~distributed.LocalCluster` of ``workers``
    worker processes (default: one per CPU), ``threads_per_worker`` threads each, their
    ``MALLOC_MMAP_THRESHOLD_`` at :data:`WORKER_MMAP_THRESHOLD`; the dashboard is off.
    Close it with ``client.close(); client.cluster.close()``."""
    import dask  # optional heavy dependency
    from distributed import Client, LocalCluster

    key = "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_"
    with dask.config.set({key: WORKER_MMAP_THRESHOLD}):
        cluster = LocalCluster(n_workers=workers or default_workers(),
                               threads_per_worker=threads_per_worker, processes=processes,
                               dashboard_address=None, memory_limit=memory_limit)
    return Client(cluster)


def open_executor(scheduler: Any = None, workers: int | None = None) -> InProcess | OnDask:
    """The executor ``scheduler`` names (:func:`resolve_scheduler`), left open: a notebook
    opens one and passes it to every call (one LocalCluster for all of them); ``close()``
    shuts down what it started (a given Client is left open).

    ``workers``: threads in this process, or worker processes of a LocalCluster.
    """
    target = resolve_scheduler(scheduler)
    if target is None:
        return InProcess(workers)
    if not isinstance(target, str):  # a Client
        return OnDask(target)
    from distributed import Client  # optional heavy dependency

    return OnDask(local_client(workers) if target == LOCAL else Client(target), owned=True)


@contextmanager
def executor(scheduler: Any = None, workers: int | None = None) -> Iterator[InProcess | OnDask]:
    """:func:`open_executor` as a context: closed afterwards (a LocalCluster started here
    is shut down; a given Client is left open)."""
    ex = open_executor(scheduler, workers)
    try:
        yield ex
    finally:
        ex.close()


def as_executor(scheduler: Any, workers: int | None = None):
    """``scheduler`` if it is already an executor, else :func:`executor` of it."""
    if isinstance(scheduler, (InProcess, OnDask)):
        @contextmanager
        def same():
            yield scheduler
        return same()
    return executor(scheduler, workers)


def describe(ex: InProcess | OnDask) -> str:
    """One line: where the tasks run."""
    if not ex.distributed:
        return ngettext("in this process ({n} thread)", "in this process ({n} threads)",
                        ex.workers).format(n=ex.workers)
    info = ex.client.scheduler_info()
    return ngettext("on Dask scheduler {address} ({n} worker thread)",
                    "on Dask scheduler {address} ({n} worker threads)", ex.workers).format(
        address=info.get("address", "?"), n=ex.workers)
