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


#: The environment variable naming a person's workspace (outside the code checkout): the
#: planner's drafts (``plans/``) and caches (``cache/``).
WORKSPACE_ENV = "DSR_WORKSPACE"


def workspace_dir() -> Path:
    """``$DSR_WORKSPACE``, or ``~/dsr-workspace``: where a person's own files go (drafts of
    plans, caches), never into the code checkout."""
    import os

    root = os.environ.get(WORKSPACE_ENV, "").strip()
    return Path(root).expanduser() if root else Path.home() / "dsr-workspace"
