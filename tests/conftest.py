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


@pytest.fixture(scope="session")
def bureau_quarter(tmp_path_factory):
    """A county bureau's own registers (雄县: XLSX with a title row, GB18030 CSV, 111 firms,
    18 inspectors, 14 items; ``tests/bureau.py``) committed and drawn for 2023Q1 into a
    fresh ledger. Shared and read-only: a test that changes files copies them first
    (:func:`copy_bureau_quarter`)."""
    from bureau import draw_bureau_quarter

    return draw_bureau_quarter(tmp_path_factory.mktemp("bureau"))


@pytest.fixture
def bureau_copy(bureau_quarter, tmp_path):
    """A writable copy of :func:`bureau_quarter` (registers, ledger and outputs)."""
    from bureau import copy_bureau_quarter

    return copy_bureau_quarter(bureau_quarter, tmp_path)


# The tests were written against the English messages: in-process code speaks English, and so
# do the `dsr` subprocesses the tests start (they inherit LANGUAGE). A test of the Chinese
# messages asks for them: ``set_language("zh")`` in process, ``env`` with ``LANGUAGE=zh_CN``
# (or ``--lang zh``) for a subprocess (tests/test_i18n.py).
import os as _os  # noqa: E402

_os.environ["LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def _english_messages():
    from dsr_analysis.i18n import set_language

    set_language("en")
    yield
    set_language("en")
