"""Benchmark: ``dsr validate`` of a 1,000,000-enterprise register against reading it only.

    .venv/bin/python benchmarks/bench_validate.py [--enterprises 1000000] [--dir DIR]

Writes a synthetic register directory (``--enterprises`` enterprises with valid USCCs and
sample-like names, industries and towns; the sample's inspectors, with declared conflicts
naming enterprises of the new register; the sample's experts and items) as UTF-8 CSV, then
times, in the same run and best of 3 each:

* **reading only**: :func:`dsr_analysis.tabular.read_cells` on ``enterprises.csv`` (the
  reader every register goes through: strict decoding, the check of every line's quotes and
  fields, the cells as text, column-wise);
* **full validation**: :func:`dsr_analysis.registers.load_registers` on the directory (what
  ``dsr validate`` does once the policy is loaded: all four registers read, every cell
  converted and checked, the cross-register checks);

and prints both and their ratio (target: within 3x), and the peak memory of each per
enterprise (peak resident set size, VmHWM, of a fresh process, less its size before the
call; target: <= 500 bytes per enterprise for the validation).

``--dir`` keeps the generated directory there (and reuses it when it already holds a
register of the same size).

Measured on the project's 2-core machine, 1,000,000 enterprises (163 MB):

* before (csv module into a list of rows, one Python call per cell, stdnum per code):
  reading 12.0 s, validation 75.1 s (6.3x), peak 2,038 bytes per enterprise (pyarrow
  installed; without it 18.3 s and 68.6 s);
* after (line scan with numpy, pyarrow parse, column-wise checks): reading 0.7-1.0 s,
  validation 1.6-2.3 s (2.1-2.4x), peak 350-360 bytes per enterprise reading and
  410-430 validating.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from stdnum.cn import uscc as stdnum_uscc

from dsr_analysis.paths import SAMPLE_REGISTERS
from dsr_analysis.policy import load_policy
from dsr_analysis.registers import known_headers, load_registers
from dsr_analysis.tabular import read_cells
from dsr_analysis.sample import UNITS, _WORDS, synthetic_enterprises

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)])
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
DIVISION = {uid: v[1] for uid, v in UNITS.items()}
KNOWN = known_headers("enterprises")


def synthetic_usccs(units: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unique well-formed USCCs (authority 9, type 1, the unit's division code, a GB 11714
    organisation code with its check character, the GB 32100 check character)."""
    n = len(units)
    serial = 10_000_000 + np.cumsum(rng.integers(1, 90, n))
    digits = (serial[:, None] // 10 ** np.arange(7, -1, -1)) % 10            # (n, 8)
    org_check = 11 - (digits * ORG_WEIGHTS).sum(axis=1) % 11
    org_char = np.where(org_check == 10, "X", np.where(org_check == 11, "0",
                                                       org_check.astype(str)))
    division = pd.Series(units).map(DIVISION).to_numpy().astype("U6")
    body = np.char.add(np.char.add(np.char.add("91", division),
                                   np.char.zfill(serial.astype(str), 8)), org_char)
    values = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17)
    lookup = np.full(256, -1)
    for i, c in enumerate(ALPHABET):
        lookup[ord(c)] = i
    total = (lookup[values] * USCC_WEIGHTS).sum(axis=1)
    check = np.array(list(ALPHABET))[(31 - total % 31) % 31]
    codes = np.char.add(body, check)
    for code in codes[:: max(1, n // 1000)]:
        assert stdnum_uscc.is_valid(str(code)), code
    return codes


def write_register(directory: Path, n: int, seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    ent = synthetic_enterprises(n, rng)
    units = ent["unit"].to_numpy()
    ent["uscc"] = synthetic_usccs(units, rng)
    industry = np.empty(n, dtype=object)
    town = np.empty(n, dtype=object)
    prefix = np.empty(n, dtype=object)
    for uid, (uname, _div, _n, _ni, industries) in UNITS.items():
        mask = units == uid
        k = int(mask.sum())
        industry[mask] = np.array(industries, dtype=object)[rng.integers(0, len(industries), k)]
        town[mask] = np.array([f"{uname}{c}号片区" for c in "一二三四五六七八"],
                              dtype=object)[rng.integers(0, 8, k)]
        prefix[mask] = "" if uid == "xiongan" else uname.replace("县", "")
    words = np.array(_WORDS, dtype=object)[rng.integers(0, len(_WORDS), n)]
    serial = np.char.mod("%07d", np.arange(n)).astype(object)
    ent["name"] = prefix + words + pd.Series(industry).str.replace("业", "").to_numpy() \
        + serial + "有限公司"
    ent["industry"] = industry
    ent["town"] = town
    ent = ent[["uscc", "name", "unit", "industry", "town", "permit_class", "key_polluter",
               "positive_list", "offsite_capable", "credit_class", "penalised_last_year",
               "supervision_order_last_year", "complaints_last_year", "emergency_risk"]]
    for col in ent.columns:
        if ent[col].dtype == bool:
            ent[col] = np.where(ent[col].to_numpy(), "true", "false")
    directory.mkdir(parents=True, exist_ok=True)
    ent.to_csv(directory / "enterprises.csv", index=False, lineterminator="\n")
    insp = pd.read_csv(SAMPLE_REGISTERS / "inspectors.csv", dtype=str, keep_default_na=False)
    has = insp["conflicts"] != ""
    insp.loc[has, "conflicts"] = rng.choice(ent["uscc"].to_numpy(), int(has.sum()))
    insp.to_csv(directory / "inspectors.csv", index=False, lineterminator="\n")
    for name in ("experts", "items"):
        shutil.copy(SAMPLE_REGISTERS / f"{name}.csv", directory / f"{name}.csv")
    (directory / "size.txt").write_text(str(n))


def _status_bytes(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in bytes.

    VmHWM is the peak of this process's own memory; ``ru_maxrss`` is not used, as a child
    inherits its parent's peak across fork and exec."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def child(kind: str, directory: Path) -> None:
    """Run one call in this fresh process; print its peak memory above the start."""
    units = load_policy().unit_names
    before = _status_bytes("VmRSS")
    if kind == "read":
        read_cells(directory / "enterprises.csv", KNOWN)
    else:
        load_registers(directory, units=units)
    print(json.dumps({"before": before, "peak": _status_bytes("VmHWM")}))


def peak_memory(kind: str, directory: Path) -> int:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(directory)],
                         check=True, capture_output=True, text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return figures["peak"] - figures["before"]


def best_of(k: int, func) -> float:
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=1_000_000)
    ap.add_argument("--dir", default=None, help="keep (or reuse) the generated registers here")
    ap.add_argument("--child", choices=["read", "validate"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, Path(args.dir))
        return
    n = args.enterprises
    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory()
        directory = Path(tmp.name) / "registers"
    else:
        directory = Path(args.dir)
    size_file = directory / "size.txt"
    t0 = time.perf_counter()
    if not (size_file.exists() and size_file.read_text() == str(n)):
        write_register(directory, n)
        print(f"wrote {n:,} enterprises to {directory} ({time.perf_counter() - t0:.1f} s)")
    mb = (directory / "enterprises.csv").stat().st_size / 1e6
    units = load_policy().unit_names
    registers = load_registers(directory, units=units)     # warm-up, and check it is valid
    assert len(registers.enterprises) == n
    del registers
    t_read = best_of(3, lambda: read_cells(directory / "enterprises.csv", KNOWN))
    t_valid = best_of(3, lambda: load_registers(directory, units=units))
    m_read = peak_memory("read", directory)
    m_valid = peak_memory("validate", directory)
    print(f"enterprises.csv: {n:,} enterprises, {mb:.0f} MB")
    print(f"reading only (read_cells, best of 3):            {t_read:6.2f} s, "
          f"peak {m_read / n:5.0f} bytes per enterprise")
    print(f"full validation (load_registers, best of 3):     {t_valid:6.2f} s, "
          f"peak {m_valid / n:5.0f} bytes per enterprise (target <= 500)")
    print(f"ratio validation / reading: {t_valid / t_read:.2f}x (target <= 3x)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
