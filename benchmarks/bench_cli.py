"""Benchmark: how long the command line takes to answer, against its targets.

    .venv/bin/python benchmarks/bench_cli.py [--repeat 5]

Prints, in the same run (best of ``--repeat`` fresh interpreters each, interleaved, so the
machine's other load falls on every line alike):

* the floors: the interpreter starting and doing nothing (``python -c pass``), and the
  interpreter importing pandas, which reading a register needs (``python -c "import pandas"``);
* ``dsr --help`` against its target, 0.5 s;
* ``dsr validate`` on the embedded sample against its target, 1 s;
* each as a ratio to its target and to the floor it cannot go below;
* whether the message catalogue is read compiled (``dsr.mo`` newer than its sources) or
  parsed from the ``.po`` files (translations in ``locale/zh_CN/parts/`` not merged and
  compiled yet: ``make venv``), which costs every command some tenths of a second.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
RUNS = {
    "floor: python -c pass": [PYTHON, "-c", "pass"],
    "floor: python -c 'import pandas'": [PYTHON, "-c", "import pandas"],
    "dsr --help": [PYTHON, "-m", "dsr_analysis.cli", "--help"],
    "dsr validate (sample)": [PYTHON, "-m", "dsr_analysis.cli", "validate"],
}
TARGETS = {"dsr --help": 0.5, "dsr validate (sample)": 1.0}
FLOORS = {"dsr --help": "floor: python -c pass",
          "dsr validate (sample)": "floor: python -c 'import pandas'"}


def _once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def _catalogue_state() -> str:
    from dsr_analysis.i18n import catalogue_path, part_paths

    mo = catalogue_path("zh_CN", ".mo")
    sources = [p for p in (catalogue_path("zh_CN"), *part_paths("zh_CN")) if p.is_file()]
    if mo.is_file() and all(mo.stat().st_mtime >= p.stat().st_mtime for p in sources):
        return "compiled dsr.mo (fresh)"
    return (f"parsed from the .po files ({len(sources) - 1} part file(s) not merged and "
            "compiled: every command pays for it; `make venv` compiles the catalogue)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    best = {name: float("inf") for name in RUNS}
    for name, command in RUNS.items():  # warm the file cache and the bytecode
        _once(command)
    for _ in range(args.repeat):
        for name, command in RUNS.items():
            best[name] = min(best[name], _once(command))
    print(f"best of {args.repeat} fresh interpreters each; catalogue: {_catalogue_state()}")
    for name in RUNS:
        line = f"  {name:34s} {best[name]:6.2f} s"
        if name in TARGETS:
            target, floor = TARGETS[name], best[FLOORS[name]]
            verdict = "met" if best[name] <= target else "NOT met"
            line += (f"   target {target:.1f} s: {best[name] / target:4.2f}x of it ({verdict});"
                     f" {best[name] / floor:4.2f}x its floor, {best[name] - floor:+.2f} s")
        print(line)
    try:
        import os

        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other jobs "
              "on the machine slow every line alike)")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
