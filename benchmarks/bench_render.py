"""Benchmark: a quarter's reports against the floor, papermill running trivial notebooks.

    .venv/bin/python benchmarks/bench_render.py [--quarter 2023Q1] [--workers N] [--repeat 2]

Prints, in the same run and on the same workers:

* the floor: papermill executing as many *trivial* notebooks (a parameters cell and one line)
  as the quarter has report jobs, on the same process pool with the same kernel set-up as
  ``dsr render`` (kernel start-up and papermill's own work: what no report can avoid);
* ``dsr render`` of the quarter on the embedded sample (every report x unit: the inputs read
  and validated once, each notebook's figures, its documents (DOCX and PDF, or XLSX and PDF)
  and its HTML), and how long the one reading and validation of the inputs took;
* the ratio render / floor (target: within 2x); with ``--fresh`` also the render with a
  fresh kernel per notebook (``render(warm=False)``, the way before warm kernels);
* the parallel efficiency of the render as Dask tasks on the demo's units (every report x
  unit): a ``LocalCluster`` of one worker process against one of ``--workers``, each
  warmed by a first render, ``T1 / (N x TN)`` (target: 1; the machine's other load lowers
  it), and the render on those warm workers against the floor (what a render costs when the
  workers' kernels are kept from an earlier one). ``--no-cluster`` skips it.

Best of ``--repeat`` runs each, interleaved. The machine may be loaded by other jobs: the
floor and the render run in the same run, so the load falls on both; the CPU seconds of
each (this process and every process it started: workers, kernels), which another job's
load changes less than the wall time, are printed beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from dsr_analysis import render as render_mod  # noqa: E402


def trivial_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell('quarter: str = "2023Q1"\nunit: str = "xiongxian"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, path)
    return path


def run_trivial(args: tuple[str, str, dict]) -> float:
    """One trivial notebook through papermill, kernels over IPC as in ``run_job``."""
    import papermill
    from traitlets.config import Config

    src, out, params = args
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dsr-kernel-") as ipc_dir:
        config = Config({"KernelManager": {"transport": "ipc",
                                           "ip": os.path.join(ipc_dir, "kernel")}})
        papermill.execute_notebook(src, out, parameters=params, kernel_name="python3",
                                   progress_bar=False, config=config)
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (and theirs)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def floor(n_jobs: int, workers: int, tmp: Path) -> float:
    src = trivial_notebook(tmp / "trivial.ipynb")
    args = [(str(src), str(tmp / f"out-{i}.ipynb"), {"quarter": "2023Q1", "unit": f"u{i}"})
            for i in range(n_jobs)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run_trivial, args))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quarter", default="2023Q1")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--fresh", action="store_true",
                    help="also render with a fresh kernel per notebook (the way before warm "
                         "kernels), in the same run")
    ap.add_argument("--no-cluster", action="store_true",
                    help="skip the parallel efficiency on a Dask LocalCluster")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="dsr-bench-render-") as tmp_s:
        tmp = Path(tmp_s)
        jobs = render_mod.plan_jobs(args.quarter, out_root=tmp / "plan")
        n = len(jobs)
        workers = max(1, min(args.workers, n))
        print(f"{args.quarter}: {n} report jobs on {workers} worker(s); best of {args.repeat}")
        floors, renders, prepares, floor_cpu, render_cpu = [], [], [], [], []
        for r in range(args.repeat):
            cpu = cpu_seconds()
            floors.append(floor(n, workers, tmp))
            floor_cpu.append(cpu_seconds() - cpu)
            out = tmp / f"render-{r}"
            start = time.perf_counter()
            render_mod.prepare(render_mod.plan_jobs(args.quarter, out_root=out))
            prepares.append(time.perf_counter() - start)
            cpu = cpu_seconds()
            start = time.perf_counter()
            render_mod.render(args.quarter, out_root=out, workers=workers)
            renders.append(time.perf_counter() - start)
            render_cpu.append(cpu_seconds() - cpu)
            print(f"  run {r + 1}: floor {floors[-1]:6.1f} s ({floor_cpu[-1]:.1f} CPU-s)   "
                  f"render {renders[-1]:6.1f} s ({render_cpu[-1]:.1f} CPU-s)   "
                  f"(inputs read and validated once: {prepares[-1]:.1f} s)")
        f, rd = min(floors), min(renders)
        fc, rc = min(floor_cpu), min(render_cpu)
        print(f"floor (papermill, {n} trivial notebooks): {f:6.1f} s   {fc:6.1f} CPU-s")
        print(f"dsr render of {args.quarter}:               {rd:6.1f} s   {rc:6.1f} CPU-s")
        print(f"ratio render / floor: {rd / f:.2f}x wall, {rc / fc:.2f}x CPU "
              "(target: within 2x)")
        if args.fresh:
            cpu = cpu_seconds()
            start = time.perf_counter()
            render_mod.render(args.quarter, out_root=tmp / "fresh", workers=workers, warm=False)
            fw, fcpu = time.perf_counter() - start, cpu_seconds() - cpu
            print(f"render with a fresh kernel per notebook: {fw:6.1f} s   {fcpu:6.1f} CPU-s "
                  f"({fw / f:.2f}x wall, {fcpu / fc:.2f}x CPU of the floor)")
        if not args.no_cluster:
            many = efficiency(args.quarter, workers, args.repeat, tmp)
            print(f"ratio render on warm workers (the cluster's kernels kept from an earlier "
                  f"render) / floor: {many / f:.2f}x")


def cluster_render(quarter: str, n_workers: int, repeat: int, tmp: Path) -> float:
    """Best time of ``repeat`` renders of the quarter as Dask tasks on a LocalCluster of
    ``n_workers`` processes, after a first render that warms the workers' kernels."""
    from dsr_analysis.distributed import local_client

    client = local_client(n_workers)
    try:
        times = []
        for r in range(repeat + 1):
            start = time.perf_counter()
            render_mod.render(quarter, out_root=tmp / f"cluster-{n_workers}-{r}",
                              scheduler=client)
            if r:  # the first render warms the kernels
                times.append(time.perf_counter() - start)
        return min(times)
    finally:
        client.close()
        client.cluster.close()


def efficiency(quarter: str, workers: int, repeat: int, tmp: Path) -> float:
    """Print the parallel efficiency; return the time on ``workers`` workers."""
    one = cluster_render(quarter, 1, repeat, tmp)
    many = cluster_render(quarter, workers, repeat, tmp)
    print(f"Dask LocalCluster, every report x unit of {quarter}: 1 worker {one:6.1f} s, "
          f"{workers} workers {many:6.1f} s")
    print(f"parallel efficiency T1 / ({workers} x T{workers}): {one / (workers * many):.2f} "
          f"(target: 1; speed-up {one / many:.2f}x on {workers} workers)")
    return many


if __name__ == "__main__":
    main()
