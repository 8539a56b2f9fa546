"""Where the project's files live."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
SAMPLE_REGISTERS = PACKAGE_DIR / "data" / "sample"
PARAMETERS_DIR = PROJECT_ROOT / "parameters"
POLICIES_DIR = PARAMETERS_DIR / "policies"
DEFAULT_POLICY = POLICIES_DIR / "xiongan-2023.yaml"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"
