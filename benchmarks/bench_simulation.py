"""Benchmark of the coverage engine (not a test: prints measured rates and ratios).

Enterprise-quarters simulated per second on a synthetic register of 100,000 enterprises
x 4 quarters x 1,000 replicates under the 2023 Xiong'an policy (independent draws, the
area level's objects excluded from the county draw), printed next to

* the raw rate at which ``numpy.random.Generator.random`` fills an array of the same size
  (one array of 100,000 x 4 x 1,000 doubles, 3.2 GB, allocated and touched first),
  measured in the same run; the rate for the same count in chunks is printed too, and
* a pandas loop per replicate: per quarter and pass, shuffle every stratum with
  ``DataFrame.groupby(stratum).sample(frac=1)`` and keep the first ``quota`` rows of each
  (``groupby().cumcount()``), then count inspections per object; and the textbook form
  ``groupby(stratum).apply(lambda g: g.sample(n=quota))``. Both are timed on a few
  replicates and extrapolated linearly to the full run (said so in the output).

Targets (issue 4): the engine at least 25 % of the raw RNG rate and at least 20x the
pandas loop.

    .venv/bin/python benchmarks/bench_simulation.py [--enterprises 100000]
        [--replicates 1000] [--pandas-replicates 20] [--chunk-size N]

``--chunk-size`` defaults to the engine's own default (``default_chunk_size``: 8 replicates
for 100,000 enterprises); the chunked fill uses the same chunk.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd

from dsr_analysis.categories import classify
from dsr_analysis.policy import load_policy
from dsr_analysis.sample import synthetic_enterprises
from dsr_analysis.simulation import (
    RegisterArrays,
    build_strata,
    default_chunk_size,
    simulate_coverage,
    static_quotas,
    stratum_ids,
)


def raw_rng_rate(n_enterprises: int, replicates: int, seed: int = 1) -> tuple:
    """Seconds and values/s for Generator.random filling one array of replicates x 4 x n
    doubles (allocated and touched before timing)."""
    rng = np.random.default_rng(seed)
    buf = np.empty((replicates * 4, n_enterprises))
    buf.fill(0.0)
    start = time.perf_counter()
    rng.random(out=buf)
    elapsed = time.perf_counter() - start
    return elapsed, buf.size / elapsed


def chunked_rng_rate(n_enterprises: int, replicates: int, chunk: int, seed: int = 1) -> tuple:
    """The same number of doubles filled chunk by chunk into a cache-friendlier buffer."""
    rng = np.random.default_rng(seed)
    buf = np.empty((chunk, n_enterprises))
    total = 0
    start = time.perf_counter()
    for _ in range(4):
        for s in range(0, replicates, chunk):
            rows = min(chunk, replicates - s)
            rng.random(out=buf[:rows])
            total += rows * n_enterprises
    elapsed = time.perf_counter() - start
    return elapsed, total / elapsed


def _pandas_setup(classified: pd.DataFrame, policy):
    strata = build_strata(policy)
    arrays = RegisterArrays.from_frame(classified, policy)
    sid = stratum_ids(strata, arrays)
    quota = static_quotas(classified, policy, strata)
    frame = pd.DataFrame({f"sid{p}": sid[p] for p in range(strata.n_passes)})
    return strata, frame, quota


def pandas_loop(classified: pd.DataFrame, policy, replicates: int, seed: int = 1) -> float:
    """Seconds for the pandas loop on ``replicates`` replicates: per quarter and pass,
    ``groupby(stratum).sample(frac=1)`` shuffles every stratum and the first ``quota`` rows
    of each are kept."""
    strata, frame, quota = _pandas_setup(classified, policy)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(replicates):
        counts = np.zeros(len(frame), dtype=np.int64)
        for _q in range(4):
            for p in range(strata.n_passes):
                col = f"sid{p}"
                members = frame[frame[col] >= 0]
                shuffled = members.groupby(col).sample(frac=1.0, random_state=rng)
                rank = shuffled.groupby(col).cumcount().to_numpy()
                chosen = shuffled.index.to_numpy()[rank < quota[shuffled[col].to_numpy()]]
                counts[chosen] += 1
        _covered = (counts > 0).sum()
    return time.perf_counter() - start


def pandas_apply_loop(classified: pd.DataFrame, policy, replicates: int, seed: int = 1) -> float:
    """Seconds for the textbook form: per quarter and pass,
    ``groupby(stratum).apply(lambda g: g.sample(n=quota[g.name]))``."""
    strata, frame, quota = _pandas_setup(classified, policy)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(replicates):
        counts = np.zeros(len(frame), dtype=np.int64)
        for _q in range(4):
            for p in range(strata.n_passes):
                col = f"sid{p}"
                members = frame[frame[col] >= 0]
                chosen = members.groupby(col, group_keys=False)[col].apply(
                    lambda g: g.sample(n=int(quota[g.name]), random_state=rng))
                counts[chosen.index.to_numpy()] += 1
        _covered = (counts > 0).sum()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=100_000)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--pandas-replicates", type=int, default=20)
    ap.add_argument("--chunk-size", type=int, default=None,
                    help="replicates per chunk (default: the engine's default_chunk_size)")
    args = ap.parse_args()
    if args.chunk_size is None:
        args.chunk_size = default_chunk_size(args.enterprises)

    policy = load_policy()
    classified = classify(synthetic_enterprises(args.enterprises, 2023), policy)
    n, reps = args.enterprises, args.replicates
    work = n * 4 * reps
    print(f"register: {n:,} synthetic enterprises; {reps:,} replicates x 4 quarters "
          f"= {work:,} enterprise-quarters; chunk {args.chunk_size}; "
          f"{platform.machine()}, numpy {np.__version__}")

    rng_s, rng_rate = raw_rng_rate(n, reps)
    print(f"raw Generator.random fill  : {rng_s:8.2f} s  {rng_rate / 1e6:9.1f} M values/s "
          f"(one array of {4 * reps * n:,} doubles)")
    ch_s, ch_rate = chunked_rng_rate(n, reps, args.chunk_size)
    print(f"  (same count, chunks of {args.chunk_size} rows: {ch_s:.2f} s, "
          f"{ch_rate / 1e6:.1f} M values/s)")

    start = time.perf_counter()
    result = simulate_coverage(classified, policy, replicates=reps, years=1, seed=2023,
                               chunk_size=args.chunk_size)
    eng_s = time.perf_counter() - start
    eng_rate = work / eng_s
    print(f"engine (simulate_coverage) : {eng_s:8.2f} s  {eng_rate / 1e6:9.1f} M "
          "enterprise-quarters/s (set-up and result tables included)")

    pd_s = pandas_loop(classified, policy, args.pandas_replicates)
    pd_full = pd_s / args.pandas_replicates * reps
    pd_rate = work / pd_full
    print(f"pandas groupby().sample()  : {pd_full:8.2f} s  {pd_rate / 1e6:9.3f} M "
          f"enterprise-quarters/s (timed {pd_s:.2f} s on {args.pandas_replicates} replicates, "
          f"extrapolated linearly to {reps:,})")
    ap_s = pandas_apply_loop(classified, policy, args.pandas_replicates)
    ap_full = ap_s / args.pandas_replicates * reps
    ap_rate = work / ap_full
    print(f"pandas groupby().apply(sample(n)): {ap_full:8.2f} s  {ap_rate / 1e6:9.3f} M "
          f"enterprise-quarters/s (timed {ap_s:.2f} s on {args.pandas_replicates} replicates, "
          f"extrapolated)")

    share = eng_rate / rng_rate
    speedup = eng_rate / pd_rate
    print(f"engine / raw RNG rate      : {share:8.1%}  (target >= 25 %: "
          f"{'met' if share >= 0.25 else 'NOT met'}; vs chunked fill {eng_rate / ch_rate:.1%})")
    print(f"engine / pandas sample loop: {speedup:8.1f}x (target >= 20x: "
          f"{'met' if speedup >= 20 else 'NOT met'}); vs apply(sample(n)) "
          f"{eng_rate / ap_rate:.1f}x")
    cov = result.coverage.groupby("category")[["objects", "covered"]].sum()
    print("yearly coverage (check):", ", ".join(
        f"{c} {row.covered / row.objects:.1%}" for c, row in cov.iterrows()))


if __name__ == "__main__":
    main()
