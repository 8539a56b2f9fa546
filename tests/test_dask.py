"""Dask: the engines, sweeps, the optimiser, a national run and the province draw give on a
real two-worker LocalCluster (worker processes) exactly what they give in this process."""

from __future__ import annotations

import dataclasses
import datetime as real_dt
import shutil
import sqlite3
import types
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from dsr_analysis.distributed import SCHEDULER_ENV, executor, local_client, resolve_scheduler
from dsr_analysis.draw import commit_quarter, draw_and_record, draw_province
from dsr_analysis.draw import ledger as ledger_module
from dsr_analysis.errors import ParameterError
from dsr_analysis.hierarchy import jurisdictions, write_policy
from dsr_analysis.paths import PROJECT_ROOT, SAMPLE_REGISTERS
from dsr_analysis.policy import load_policy
from dsr_analysis.registers import load_registers
from dsr_analysis.sample import national_registers
from dsr_analysis.simulation.coverage import simulate_coverage
from dsr_analysis.simulation.deterrence import simulate_deterrence
from dsr_analysis.simulation.national import simulate_national
from dsr_analysis.simulation.scenarios import (
    compare,
    load_scenario,
    optimise_ratios,
    sweep_credit_weights,
    with_simulation,
)

NATIONAL = PROJECT_ROOT / "parameters" / "hierarchies" / "national-2023.yaml"


@pytest.fixture(scope="module")
def client():
    """A real LocalCluster: two worker processes, one thread each (started once)."""
    c = local_client(2, threads_per_worker=1)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


def _frames_equal(a, b, names):
    for name in names:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


COVERAGE_TABLES = ("coverage", "visits", "gaps", "quotas", "workload")


@pytest.mark.parametrize("overlap", ["independent", "rotation"])
def test_coverage_on_dask_equals_in_process(client, policy, classified, registers, overlap):
    pol = dataclasses.replace(policy, draw=dataclasses.replace(policy.draw, overlap=overlap))
    kw = dict(replicates=7, years=2, seed=41, chunk_size=3, inspectors=registers.inspectors)
    here = simulate_coverage(classified, pol, workers=1, **kw)
    there = simulate_coverage(classified, pol, scheduler=client, **kw)
    _frames_equal(here, there, COVERAGE_TABLES)
    assert here.settings == there.settings


def test_deterrence_on_dask_equals_in_process(client, policy, classified, registers):
    kw = dict(replicates=5, years=2, seed=43, chunk_size=2, inspectors=registers.inspectors)
    here = simulate_deterrence(classified, policy, workers=1, **kw)
    there = simulate_deterrence(classified, policy, scheduler=client, **kw)
    _frames_equal(here, there, ("timeline", "by_category"))


def test_scenario_comparison_and_sweep_on_dask_equal_in_process(client):
    names = ["baseline-2023", "rotation"]
    here, _ = compare(names, replicates=3, years=1)
    there, _ = compare(names, replicates=3, years=1, scheduler=client)
    pd.testing.assert_frame_equal(here, there, check_exact=True)
    sc = with_simulation(load_scenario("baseline-2023"), replicates=2, years=1)
    a = sweep_credit_weights(sc, [1.0, 2.0])
    b = sweep_credit_weights(sc, [1.0, 2.0], scheduler=client)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_optimiser_evaluations_on_dask_give_the_same_optimum(client):
    sc = load_scenario("baseline-2023")
    here = optimise_ratios(sc, optimise_weights=False)
    there = optimise_ratios(sc, optimise_weights=False, scheduler=client)
    assert (here.ratios, here.weights, here.base, here.optimum, here.message) == (
        there.ratios, there.weights, there.base, there.optimum, there.message)


def _province_policy():
    pol = load_policy(NATIONAL)
    return dataclasses.replace(pol, hierarchy=dataclasses.replace(pol.hierarchy, within="p64"))


def test_national_run_on_dask_equals_in_process(client):
    pol = _province_policy()
    regs = national_registers(150_000, within="p64")
    kw = dict(replicates=4, years=1, seed=5, chunk_size=2)
    here = simulate_national(pol, regs["enterprises"], regs["inspectors"], workers=1, **kw)
    there = simulate_national(pol, regs["enterprises"], regs["inspectors"], scheduler=client,
                              **kw)
    _frames_equal(here, there, ("jurisdictions", "coverage", "units", "workload", "timeline",
                                "quotas"))
    assert list(here.jurisdictions["jurisdiction"]) == [j.id for j in jurisdictions(pol)]


def _fixed_clock(monkeypatch):
    """The ledger's clock stopped at one instant (entry hashes include the time)."""
    fixed = real_dt.datetime(2023, 1, 20, 9, 30, tzinfo=real_dt.UTC)
    fake = types.SimpleNamespace(
        datetime=types.SimpleNamespace(now=lambda tz=None: fixed), UTC=real_dt.UTC)
    monkeypatch.setattr(ledger_module, "dt", fake)


def _rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as con:
        return con.execute("SELECT * FROM entries ORDER BY seq").fetchall()


def _same_files(a: Path, b: Path) -> int:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        if f.suffix == ".xlsx":  # openpyxl stamps the time of writing into docProps/core.xml
            za, zb = zipfile.ZipFile(a / f), zipfile.ZipFile(b / f)
            assert za.namelist() == zb.namelist()
            for member in za.namelist():
                if member != "docProps/core.xml":
                    assert za.read(member) == zb.read(member), (f, member)
        else:
            assert (a / f).read_bytes() == (b / f).read_bytes(), f
    return len(files)


def test_province_draw_on_dask_is_byte_identical_to_the_sequential_draw(client, tmp_path,
                                                                         monkeypatch):
    """A prefecture of the national register (five counties and the prefecture itself):
    each unit's object draw one task, appended in canonical order under one commitment."""
    _fixed_clock(monkeypatch)
    j = jurisdictions(_province_policy())[1]
    pol = load_policy(write_policy(j, tmp_path / "policies"))
    regs = national_registers(200_000, inspectors=46_000, within=j.id)
    reg_dir = tmp_path / "registers"
    reg_dir.mkdir()
    for name in ("enterprises", "inspectors"):
        regs[name].to_csv(reg_dir / f"{name}.csv", index=False)
    for name in ("experts", "items"):
        shutil.copy(SAMPLE_REGISTERS / f"{name}.csv", reg_dir / f"{name}.csv")
    registers = load_registers(reg_dir, units=pol.unit_names)
    first = tmp_path / "sequential"
    commit_quarter(pol, registers, "2023Q1", "中国福利彩票双色球第2023010期开奖号码", first / "ledger.sqlite",
                   first / "out")
    second = tmp_path / "dask"
    shutil.copytree(first, second)
    seq, _, _ = draw_and_record(pol, registers, "2023Q1", "3 9 14 22 27 31 / 8",
                                first / "ledger.sqlite", first / "out")
    par, _, _ = draw_province(pol, registers, "2023Q1", "3 9 14 22 27 31 / 8",
                              second / "ledger.sqlite", second / "out", scheduler=client)
    assert seq.record["units"] == list(j.units[1:]) + [j.units[0]]  # counties, then the area
    assert len({t["unit"] for t in seq.record["tasks"]}) == len(j.units)
    assert _rows(first / "ledger.sqlite") == _rows(second / "ledger.sqlite")  # byte for byte
    assert _same_files(first / "out", second / "out") >= 5


def test_scheduler_names(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    assert resolve_scheduler(None) is None
    assert resolve_scheduler("none") is None and resolve_scheduler("local") == "local"
    assert resolve_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert resolve_scheduler("node7:8786") == "node7:8786"
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://head:8786")
    assert resolve_scheduler(None) == "tcp://head:8786"
    assert resolve_scheduler("none") is None
    with pytest.raises(ParameterError, match=r"scheduler: 'nowhere' is not a scheduler address"):
        resolve_scheduler("nowhere")
    with executor("none") as ex:
        assert not ex.distributed
