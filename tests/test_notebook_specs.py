"""Every committed notebook's cells are what its spec in scripts/notebooks/ builds
(ARCHITECTURE.md): the reviewable source and the notebook cannot drift apart. And notebooks
stay thin: no def or class, one cell tagged parameters."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)


def _spec(notebook: Path) -> Path:
    return ROOT / "scripts" / "notebooks" / notebook.relative_to(ROOT / "notebooks").with_suffix(".py")


def _cells(nb) -> list[tuple[str, str]]:
    out = []
    for c in nb.cells:
        kind = c.cell_type
        tags = c.metadata.get("tags", [])
        if kind == "code" and "parameters" in tags:
            kind = "parameters"
        elif "internal" in tags:
            kind = "internal" if kind == "code" else "internal-markdown"
        out.append((kind, c.source.strip("\n")))
    return out


def _run_spec(spec: Path) -> dict:
    """Run a spec, leaving ``sys.path`` and ``sys.modules`` as they were: a spec puts its own
    folder first on the path (to import ``_params``), where ``coverage.py`` would shadow the
    coverage package for every later import - and for the worker processes a later test
    starts, which inherit the path."""
    import sys

    path, modules = list(sys.path), set(sys.modules)
    try:
        return runpy.run_path(str(spec))
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if name.startswith("_params") or name in ("_scenario",):
                del sys.modules[name]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_equals_its_spec(notebook):
    spec = _spec(notebook)
    assert spec.exists(), f"{notebook.name} has no spec {spec.relative_to(ROOT)}"
    cells = [(k, s.strip("\n")) for k, s in _run_spec(spec)["CELLS"]]
    assert _cells(nbformat.read(notebook, as_version=4)) == cells


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_parameterised(notebook):
    nb = nbformat.read(notebook, as_version=4)
    kinds = [k for k, _ in _cells(nb)]
    assert kinds.count("parameters") == 1
    for kind, source in _cells(nb):
        if kind in ("markdown", "internal-markdown"):
            continue
        tree = ast.parse("\n".join(line for line in source.splitlines()
                                   if not line.lstrip().startswith(("%", "!"))))
        assert not [n for n in ast.walk(tree)
                    if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
