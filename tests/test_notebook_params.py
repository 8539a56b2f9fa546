"""A parameterised notebook refuses a parameter it does not know (real papermill runs)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dsr_analysis.errors import ParameterError
from dsr_analysis.notebook_params import check_parameters
from dsr_analysis.paths import PROJECT_ROOT


def test_check_names_the_unknown_parameter_and_the_valid_ones():
    declared = {"unit": str, "quarter": str}
    before = {"In", "Out", "unit", "quarter", "_names"}
    check_parameters(before | {"_i3", "_"}, before, declared, "nb")  # IPython's own names
    with pytest.raises(ParameterError, match=r"nb: unknown parameter 'unti' \(did you mean "
                                             r"'unit'\?\), 'zzz'; the parameters are: "
                                             r"quarter, unit$"):
        check_parameters(before | {"unti", "zzz"}, before, declared, "nb")


@pytest.mark.parametrize("notebook, extra", [
    ("reports/statistics.ipynb", ["-p", "unti", "anxin"]),
    ("coverage.ipynb", ["-p", "overides", "{}"]),
])
def test_papermill_with_a_misspelt_parameter_fails_inside_the_notebook(tmp_path, notebook,
                                                                        extra):
    nb = PROJECT_ROOT / "notebooks" / notebook
    run = subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar", "-k",
                          "python3", "--cwd", str(nb.parent), str(nb),
                          str(tmp_path / "out.ipynb"), *extra],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    name = extra[1]
    assert f"unknown parameter '{name}'" in run.stderr + run.stdout
    assert "the parameters are:" in run.stderr + run.stdout
