"""Shared fixtures: register directories made from the embedded sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from dsr_analysis.paths import SAMPLE_REGISTERS
from dsr_analysis.categories import classify
from dsr_analysis.policy import load_policy
from dsr_analysis.registers import load_registers


@pytest.fixture(scope="session")
def policy():
    return load_policy()


@pytest.fixture(scope="session")
def registers(policy):
    """The embedded sample registers (frozen; tests must not modify the frames)."""
    return load_registers(None, units=policy.unit_names)


@pytest.fixture(scope="session")
def classified(registers, policy):
    """The sample enterprises with their categories."""
    return classify(registers.enterprises, policy)


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """A writable copy of the sample registers."""
    target = tmp_path / "registers"
    shutil.copytree(SAMPLE_REGISTERS, target)
    return target


def read_raw(directory: Path, name: str) -> pd.DataFrame:
    """A register file as text cells, as a person editing it would see them."""
    return pd.read_csv(directory / f"{name}.csv", dtype=str, keep_default_na=False)


def write_raw(directory: Path, name: str, frame: pd.DataFrame, **kw) -> Path:
    path = directory / f"{name}.csv"
    frame.to_csv(path, index=False, **kw)
    return path
