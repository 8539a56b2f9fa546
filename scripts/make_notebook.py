"""Write a notebook from a list of cells (markdown / code / parameters) — used to keep the
committed notebooks' sources in reviewable form. Usage: python scripts/make_notebook.py SPEC.py OUT.ipynb
where SPEC.py defines CELLS = [("markdown"|"code"|"parameters"|"internal"|"internal-markdown",
source), ...]. "internal" cells are tagged ``internal``: reviewers' checks that nbval compares
but the HTML of a report leaves out (the reader sees the document only)."""

from __future__ import annotations

import runpy
import sys

import nbformat


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        source = source.strip("\n")
        if kind in ("markdown", "internal-markdown"):
            cell = nbformat.v4.new_markdown_cell(source)
            if kind == "internal-markdown":
                cell.metadata["tags"] = ["internal"]
            nb.cells.append(cell)
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind in ("parameters", "internal"):
                cell.metadata["tags"] = [kind]
            nb.cells.append(cell)
    return nb


if __name__ == "__main__":
    spec, out = sys.argv[1], sys.argv[2]
    nbformat.write(build(runpy.run_path(spec)["CELLS"]), out)
