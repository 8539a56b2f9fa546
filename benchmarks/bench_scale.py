"""Benchmark: every stage at 10 thousand to 3.5 million enterprises, and sweeps on Dask.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10k,100k,1M,3.5M] [--replicates 100]
        [--stages validate,classify,quotas,objects,draw,coverage,deterrence]
        [--chunk-at 1M] [--chunks 1,2,4,8] [--sweep-within p13] [--sweep-replicates 8]
        [--national] [--skip-sizes] [--skip-chunks] [--skip-sweep]

**Stages** (the Xiong'an 2023 policy on synthetic registers of each size, with valid USCCs and
5.5 inspectors per 100 enterprises, written as CSV files once per size under
``outputs/bench_scale/``): ``validate`` (:func:`dsr_analysis.registers.load_registers`:
reading and checking the four files), ``classify``, ``quotas``
(:func:`dsr_analysis.quotas.quarterly_quotas`), ``objects`` (the object draw:
:func:`dsr_analysis.draw.draw_quarter` with ``staff=False``), ``draw`` (the full draw,
staffing and record included), ``coverage`` and ``deterrence`` (the engines,
``--replicates`` x 4 quarters, their default chunk size and threads) and ``rng`` (the floor:
``numpy.random.Generator.random`` filling as many doubles as the engines have
enterprise-quarters, on as many threads as the engines use, each thread its own PCG64
generator and a 64k buffer; added whenever an engine is timed). After the table, the
engines' enterprise-quarters per second are set against the ``rng`` values per second of
the same size in the same run: the deterrence ratio and its target of
:data:`DETERRENCE_RNG_TARGET`. Each stage runs in a
fresh process that first loads its inputs (untimed), then resets the kernel's peak-RSS
counter (``/proc/self/clear_refs``) and runs the stage: *peak* is the process's peak resident
memory during the stage (inputs included), *added* the peak minus the memory before the
stage. Time is wall-clock (CPU seconds in brackets: the engines use two threads). The
growth exponent is the log-log slope between successive sizes (1 = linear).

**Chunks**: peak memory of both engines against the chunk size at ``--chunk-at`` enterprises
(8 replicates, one thread: what one worker holds).

**Sweep**: :func:`dsr_analysis.simulation.scenarios.sweep_credit_weights` over four
steepness values on the national scenario restricted to one province (``--sweep-within``,
default Hebei: 11 prefectures, 167 counties, about 190,000 enterprises of the full national
register), coverage and deterrence, in this process on one thread, in this process on two
threads, and on a two-worker ``LocalCluster`` (one thread each; start-up timed apart); the
parallel efficiency is ``T(1 thread) / (2 x T(cluster))``; the results are checked equal.

``--national``: the whole national scenario (3.5 million enterprises, 367 jurisdictions,
``--replicates``) on the two-worker LocalCluster.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "outputs" / "bench_scale"
STAGES = ("validate", "classify", "quotas", "objects", "draw", "coverage", "deterrence", "rng")
#: Deterrence engine against the raw random-number fill rate: enterprise-quarters per second
#: over ``Generator.random`` values per second (same run, same threads) - issue 22's target.
DETERRENCE_RNG_TARGET = 0.25
PER_100 = 5.5


def parse_size(text: str) -> int:
    t = text.strip().lower()
    mult = 1
    if t.endswith("k"):
        mult, t = 1_000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    return int(round(float(t) * mult))


def label(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:g}M"
    return f"{n // 1000}k" if n >= 1000 else str(n)


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------
def write_registers(n: int, directory: Path, seed: int = 7) -> None:
    """Synthetic registers of ``n`` enterprises of the Xiong'an units as CSV files that
    validate: valid USCCs on each unit's division code, 5.5 inspectors per 100."""
    from dsr_analysis.paths import SAMPLE_REGISTERS
    from dsr_analysis.sample import (BUSINESS_LINES, LINE_SHARES, UNITS, national_usccs,
                                     synthetic_enterprises)

    rng = np.random.default_rng(seed)
    ent = synthetic_enterprises(n, rng)
    division = ent["unit"].map({u: v[1] for u, v in UNITS.items()}).to_numpy()
    ent["uscc"] = national_usccs(division, np.arange(n) + 10_000_000)
    industries = sorted({i for v in UNITS.values() for i in v[4]})
    ind = np.array(industries)[rng.integers(0, len(industries), n)]
    ent["industry"] = ind
    ent["name"] = np.char.add(np.char.add("企业", ent["uscc"].to_numpy().astype(str)), "有限公司")
    ent["town"] = ""
    cols = ["uscc", "name", "unit", "industry", "town", "permit_class", "key_polluter",
            "positive_list", "offsite_capable", "credit_class", "penalised_last_year",
            "supervision_order_last_year", "complaints_last_year", "emergency_risk"]
    counts = ent["unit"].value_counts()
    m = int(round(n * PER_100 / 100))
    per_unit = (counts / counts.sum() * m).round().astype(int).clip(lower=2)
    units = np.repeat(per_unit.index.to_numpy(), per_unit.to_numpy())
    k = len(units)
    insp = pd.DataFrame({
        "inspector_id": [f"I{i:07d}" for i in range(k)],
        "name": [f"人员{i}" for i in range(k)], "unit": units,
        "business_line": np.array(BUSINESS_LINES)[rng.choice(len(BUSINESS_LINES), k,
                                                             p=LINE_SHARES)],
        "expertise": "", "certified": rng.random(k) < 0.97, "active": rng.random(k) < 0.97,
        "conflicts": ""})
    directory.mkdir(parents=True, exist_ok=True)
    for frame, name in ((ent[cols], "enterprises"), (insp, "inspectors")):
        out = frame.copy()
        for col in out.columns:
            if out[col].dtype == bool:
                out[col] = np.where(out[col], "true", "false")
        out.to_csv(directory / f"{name}.csv", index=False, lineterminator="\n")
    for name in ("experts", "items"):
        shutil.copy(SAMPLE_REGISTERS / f"{name}.csv", directory / f"{name}.csv")


# --------------------------------------------------------------------------------------
# One stage in this (fresh) process
# --------------------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_stage(stage: str, directory: Path, replicates: int, chunk: int | None,
              workers: int | None) -> dict:
    from dsr_analysis.categories import classify
    from dsr_analysis.draw import draw_quarter
    from dsr_analysis.policy import load_policy
    from dsr_analysis.quotas import quarterly_quotas
    from dsr_analysis.registers import load_registers
    from dsr_analysis.simulation.coverage import simulate_coverage
    from dsr_analysis.simulation.deterrence import simulate_deterrence

    policy = load_policy()
    pkl = directory / "registers.pkl"
    if stage == "rng":  # the floor: no engine, only the register's size
        registers = pickle.loads(pkl.read_bytes())
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_kb("VmRSS")
        t0, c0 = time.perf_counter(), _cpu()
        values, threads = fill_uniforms(replicates * 4 * len(registers.enterprises), workers)
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        peak = _status_kb("VmHWM")
        return dict(stage=stage, seconds=seconds, cpu=cpu, peak_mb=peak / 1024,
                    before_mb=before / 1024, added_mb=(peak - before) / 1024, values=values,
                    threads=threads)
    registers = classified = None
    if stage != "validate":
        registers = pickle.loads(pkl.read_bytes())
    if stage in ("quotas", "coverage", "deterrence"):
        classified = classify(registers.enterprises, policy)
        if stage in ("coverage", "deterrence"):  # compile the kernels (or load the cache)
            small = classified.iloc[:2000]
            (simulate_coverage if stage == "coverage" else simulate_deterrence)(
                small, policy, replicates=2, years=1, seed=1, workers=1)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
    before = _status_kb("VmRSS")
    t0, c0 = time.perf_counter(), _cpu()
    extra = {}
    if stage == "validate":
        registers = load_registers(directory, units=policy.unit_names)
    elif stage == "classify":
        classify(registers.enterprises, policy)
    elif stage == "quotas":
        quarterly_quotas(classified, policy, f"{policy.year}Q1", registers.inspectors)
    elif stage in ("objects", "draw"):
        res = draw_quarter(policy, registers, f"{policy.year}Q1", "bench-2023Q1",
                           staff=stage == "draw")
        extra["tasks"] = len(res.record["tasks"])
    elif stage == "coverage":
        simulate_coverage(classified, policy, replicates=replicates, years=1, seed=1,
                          chunk_size=chunk, inspectors=registers.inspectors, workers=workers)
    elif stage == "deterrence":
        simulate_deterrence(classified, policy, replicates=replicates, years=1, seed=1,
                            chunk_size=chunk, inspectors=registers.inspectors, workers=workers)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    peak = _status_kb("VmHWM")
    if stage == "validate":
        pkl.write_bytes(pickle.dumps(registers, protocol=5))
    return dict(stage=stage, seconds=seconds, cpu=cpu, peak_mb=peak / 1024,
                before_mb=before / 1024, added_mb=(peak - before) / 1024, **extra)


def fill_uniforms(total: int, workers: int | None = None) -> tuple[int, int]:
    """Fill ``total`` doubles with ``Generator.random`` on the engines' thread count (each
    thread its own PCG64 and a 65,536-value buffer); returns the values and threads."""
    import threading

    threads = workers or max(1, len(os.sched_getaffinity(0)))
    block = 1 << 16
    per = max(1, total // (threads * block))

    def work(seed: int) -> None:
        g = np.random.default_rng(seed)
        buf = np.empty(block)
        for _ in range(per):
            g.random(out=buf)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return per * block * threads, threads


def rng_ratios(results: dict, sizes: list[int], replicates: int) -> None:
    """The engines' enterprise-quarters per second against the ``rng`` values per second of
    the same size (same run, same threads), with the deterrence target; by wall-clock time
    and by CPU time (on a machine other jobs load, the CPU ratio is the steadier one)."""
    print("\nEngines against the raw random-number fill rate (enterprise-quarters/s over "
          "Generator.random values/s, same threads, same run; wall-clock, then CPU time):")
    print("| size | Generator.random | coverage | deterrence | deterrence / RNG (wall) | "
          "(CPU) | target |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        floor = results.get(("rng", n), {})
        if "values" not in floor:
            continue
        rate = floor["values"] / floor["seconds"]
        cpu_rate = floor["values"] / max(floor["cpu"], 1e-9)
        work = replicates * 4 * n
        cells = []
        for stage in ("coverage", "deterrence"):
            r = results.get((stage, n), {})
            cells.append(f"{work / r['seconds'] / 1e6:.1f} M/s ({work / r['seconds'] / rate:.0%})"
                         if "seconds" in r else "-")
        det = results.get(("deterrence", n), {})
        wall = work / det["seconds"] / rate if "seconds" in det else float("nan")
        cpu = work / max(det["cpu"], 1e-9) / cpu_rate if "cpu" in det else float("nan")
        verdict = ("met" if wall >= DETERRENCE_RNG_TARGET else "NOT met") if det else "-"
        print(f"| {label(n)} | {rate / 1e6:.0f} M/s ({floor['threads']} threads) | "
              f"{cells[0]} | {cells[1]} | {wall:.1%} | {cpu:.1%} | "
              f">= {DETERRENCE_RNG_TARGET:.0%}: {verdict} |")


def stage_in_subprocess(stage: str, directory: Path, replicates: int, chunk: int | None = None,
                        workers: int | None = None) -> dict:
    cmd = [sys.executable, __file__, "--run-stage", stage, "--data", str(directory),
           "--replicates", str(replicates)]
    if chunk:
        cmd += ["--chunk", str(chunk)]
    if workers:
        cmd += ["--workers", str(workers)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        return dict(stage=stage, error=(out.stderr.strip().splitlines() or ["?"])[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
def slope(a: float, b: float, na: int, nb: int) -> float:
    if a <= 0 or b <= 0:
        return float("nan")
    return math.log(b / a) / math.log(nb / na)


def sizes_table(sizes: list[int], stages: list[str], replicates: int) -> None:
    results: dict[tuple[str, int], dict] = {}
    for n in sizes:
        directory = DATA / f"n{n}"
        if not (directory / "enterprises.csv").exists():
            t0 = time.perf_counter()
            write_registers(n, directory)
            print(f"  [{label(n)}] registers written in {time.perf_counter() - t0:.1f} s",
                  flush=True)
        if not (directory / "registers.pkl").exists() and "validate" not in stages:
            stages = ["validate", *stages]
        if {"coverage", "deterrence"} & set(stages) and "rng" not in stages:
            stages = [*stages, "rng"]
        for stage in stages:
            r = stage_in_subprocess(stage, directory, replicates)
            results[(stage, n)] = r
            if "error" in r:
                print(f"  [{label(n)}] {stage:10s} FAILED: {r['error']}", flush=True)
            else:
                print(f"  [{label(n)}] {stage:10s} {r['seconds']:9.2f} s ({r['cpu']:8.1f} CPU s) "
                      f"peak {r['peak_mb']:8.0f} MB (+{r['added_mb']:7.0f} MB)", flush=True)
    print()
    head = ("| stage | " + " | ".join(label(n) for n in sizes)
            + " | time exponent (wall) | (CPU) | memory exponent |")
    print(head)
    print("|" + "---|" * (len(sizes) + 4))
    for stage in stages:
        cells, t_exp, c_exp, m_exp = [], [], [], []
        for i, n in enumerate(sizes):
            r = results.get((stage, n), {})
            if "seconds" not in r:
                cells.append("failed" if "error" in r else "-")
                continue
            cells.append(f"{r['seconds']:.2f} s ({r['cpu']:.1f}), {r['peak_mb']:.0f} MB "
                         f"(+{r['added_mb']:.0f})")
            if i:
                p = results.get((stage, sizes[i - 1]), {})
                if "seconds" in p:
                    t_exp.append(f"{slope(p['seconds'], r['seconds'], sizes[i - 1], n):.2f}")
                    c_exp.append(f"{slope(p['cpu'], r['cpu'], sizes[i - 1], n):.2f}")
                    m_exp.append(f"{slope(p['added_mb'], r['added_mb'], sizes[i - 1], n):.2f}")
        print(f"| {stage} | " + " | ".join(cells) + f" | {' / '.join(t_exp)} | "
              f"{' / '.join(c_exp)} | {' / '.join(m_exp)} |")
    label_r = f"{replicates} replicates x 4 quarters"
    print(f"\n(peak: the stage's process, inputs included; +added: above the memory before the "
          f"stage; engines: {label_r}; exponents between successive sizes)")
    rng_ratios(results, sizes, replicates)


def chunks_table(n: int, chunks: list[int]) -> None:
    directory = DATA / f"n{n}"
    if not (directory / "registers.pkl").exists():
        if not (directory / "enterprises.csv").exists():
            write_registers(n, directory)
        stage_in_subprocess("validate", directory, 1)
    reps = max(chunks)
    print(f"\nPeak memory against the chunk size: {label(n)} enterprises, {reps} replicates x 4 "
          "quarters, one thread")
    print("| chunk | coverage peak (+added) | deterrence peak (+added) |")
    print("|---|---|---|")
    for c in chunks:
        row = []
        for stage in ("coverage", "deterrence"):
            r = stage_in_subprocess(stage, directory, reps, chunk=c, workers=1)
            row.append(f"{r['peak_mb']:.0f} MB (+{r['added_mb']:.0f} MB), {r['seconds']:.1f} s"
                       if "peak_mb" in r else f"failed: {r.get('error')}")
        print(f"| {c} | " + " | ".join(row) + " |", flush=True)


def sweep(within: str, replicates: int) -> None:
    import dataclasses

    import yaml

    from dsr_analysis.distributed import InProcess, local_client
    from dsr_analysis.simulation.scenarios import (load_scenario, scenario_from_mapping,
                                                   scenario_to_dict, sweep_credit_weights)

    base = scenario_to_dict(load_scenario("national-2023"))
    data = yaml.safe_load((ROOT / base["policy"]).read_text(encoding="utf-8"))
    data["hierarchy"]["within"] = within
    policy_path = DATA / f"national-{within}.yaml"
    policy_path.parent.mkdir(parents=True, exist_ok=True)
    policy_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    base.update(id=f"national-{within}", policy=str(policy_path),
                simulation={"replicates": replicates, "years": 1, "seed": 2023})
    sc = scenario_from_mapping(base)
    steep = [1.0, 1.5, 2.0, 3.0]
    from dsr_analysis.hierarchy import jurisdictions
    from dsr_analysis.policy import load_policy
    from dsr_analysis.sample import national_registers

    juris = jurisdictions(load_policy(policy_path))
    n = len(national_registers(sc.register.size, within=within)["enterprises"])
    print(f"\nSweep of the credit weights (4 steepness values) on the national scenario within "
          f"{within}: {len(juris)} jurisdictions, {n:,} enterprises, {replicates} replicates x 4 "
          "quarters, coverage and deterrence")
    sweep_credit_weights(dataclasses.replace(sc, simulation=dataclasses.replace(
        sc.simulation, replicates=2)), steep[:1])  # warm-up (kernels)
    times = {}
    t0, c0 = time.perf_counter(), _cpu()
    one = sweep_credit_weights(sc, steep, scheduler=InProcess(1))
    times["1 thread"] = (time.perf_counter() - t0, _cpu() - c0)
    t0, c0 = time.perf_counter(), _cpu()
    two = sweep_credit_weights(sc, steep)
    times["2 threads"] = (time.perf_counter() - t0, _cpu() - c0)
    t0 = time.perf_counter()
    client = local_client(2, threads_per_worker=1)
    start = time.perf_counter() - t0
    client.run(_warm_worker)
    t0 = time.perf_counter()
    dask = sweep_credit_weights(sc, steep, scheduler=client)
    times["LocalCluster 2 workers"] = (time.perf_counter() - t0, float("nan"))
    client.close()
    client.cluster.close()
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(one, dask, check_exact=True)
    t1 = times["1 thread"][0]
    print("| where | wall s | CPU s (client) | speed-up | parallel efficiency (2 CPUs) |")
    print("|---|---|---|---|---|")
    for k, (w, c) in times.items():
        print(f"| {k} | {w:.1f} | {c:.1f} | {t1 / w:.2f}x | {t1 / (2 * w):.0%} |")
    print(f"(LocalCluster start-up {start:.1f} s, not included; results identical in all three)")


def _warm_worker() -> bool:
    """Compile (or load) the kernels on a worker before timing."""
    from dsr_analysis.categories import classify
    from dsr_analysis.policy import load_policy
    from dsr_analysis.registers import load_registers
    from dsr_analysis.simulation.coverage import simulate_coverage
    from dsr_analysis.simulation.deterrence import simulate_deterrence

    pol = load_policy()
    cl = classify(load_registers(None, units=pol.unit_names).enterprises, pol).iloc[:1000]
    simulate_coverage(cl, pol, replicates=2, years=1, seed=1, workers=1)
    simulate_deterrence(cl, pol, replicates=2, years=1, seed=1, workers=1)
    return True


def national(replicates: int) -> None:
    from dsr_analysis.distributed import local_client
    from dsr_analysis.simulation.scenarios import load_scenario, run_scenario, with_simulation

    sc = with_simulation(load_scenario("national-2023"), replicates=replicates)
    t0 = time.perf_counter()
    client = local_client(2, threads_per_worker=1)
    client.run(_warm_worker)
    print(f"\nNational scenario: {sc.register.size:,} enterprises, {replicates} replicates x 4 "
          f"quarters on a 2-worker LocalCluster (start {time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    run = run_scenario(sc, scheduler=client, progress=True)
    wall = time.perf_counter() - t0
    worker_peak = client.run(lambda: _status_kb("VmHWM") / 1024)
    client.close()
    client.cluster.close()
    h = run.headline
    print(f"  {wall:.0f} s wall; client peak {_status_kb('VmHWM') / 1024:.0f} MB; worker peaks "
          + ", ".join(f"{v:.0f} MB" for v in worker_peak.values()))
    print(f"  {h['jurisdictions']} jurisdictions; coverage {h['coverage_all']:.1%}; violation "
          f"rate {h['violation_rate_last_year']:.1%}; hit rate {h['hit_rate']:.2%}; "
          f"{h['inspector_days_per_quarter']:.0f} of {h['capacity_days_per_quarter']:.0f} "
          "inspector-days a quarter")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10k,100k,1M,3.5M")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--replicates", type=int, default=100)
    ap.add_argument("--chunk-at", default="1M")
    ap.add_argument("--chunks", default="1,2,4,8")
    ap.add_argument("--sweep-within", default="p13")
    ap.add_argument("--sweep-replicates", type=int, default=8)
    ap.add_argument("--national", action="store_true")
    ap.add_argument("--skip-sizes", action="store_true")
    ap.add_argument("--skip-chunks", action="store_true")
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--run-stage", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_stage:
        print(json.dumps(run_stage(args.run_stage, Path(args.data), args.replicates,
                                   args.chunk, args.workers)))
        return
    import platform

    print(f"bench_scale: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    if not args.skip_sizes:
        sizes = [parse_size(s) for s in args.sizes.split(",")]
        stages = [s.strip() for s in args.stages.split(",")]
        unknown = sorted(set(stages) - set(STAGES))
        if unknown:
            ap.error(f"unknown stage(s) {', '.join(unknown)} (stages: {', '.join(STAGES)})")
        sizes_table(sizes, stages, args.replicates)
    if not args.skip_chunks:
        chunks_table(parse_size(args.chunk_at), [int(c) for c in args.chunks.split(",")])
    if not args.skip_sweep:
        sweep(args.sweep_within, args.sweep_replicates)
    if args.national:
        national(args.replicates)


if __name__ == "__main__":
    main()
