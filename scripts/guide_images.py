"""Page images of the user guide: the first page of each document kind, from a demo run.

``make demo`` (or ``dsr demo``) writes the documents under ``outputs/``; this script converts
the first page of one document of each kind with ``pdftoppm -r 60`` into a small PNG
(256 colours) in ``docs/images/``, which the guide's pages show::

    .venv/bin/python scripts/guide_images.py [--outputs outputs]

Look at the images after running it: they are what a reader of the guide sees.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"

#: image name -> the document's path under the outputs folder (the first match of a pattern)
DOCUMENTS = {
    "statistics": "2023Q1/statistics-xiongxian.pdf",
    "summary": "2023Q1/summary-xiongxian.pdf",
    "evaluation": "2023Q1/evaluation-xiongan.pdf",
    "notice": "2023Q1/notice-xiongxian-2023-02.pdf",
    "annual_plan": "plan/2023/annual_plan-2023-r0.pdf",
    "announcement": "draws/2023Q1/public/announcement-*.pdf",
    "task_sheet": "draws/2023Q1/internal/task-sheets/xiongxian/teams/team-01.pdf",
}


def page_image(pdf: Path, target: Path) -> None:
    """The first page of ``pdf`` at 60 dpi as a 256-colour PNG ``target``."""
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / "page"
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(stem)], check=True)
        image = Image.open(stem.with_suffix(".png")).convert("RGB")
        part = target.with_name(target.name + ".tmp")
        image.quantize(colors=256).save(part, format="PNG", optimize=True)
        part.replace(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outputs", default=str(ROOT / "outputs"), help="a demo's outputs")
    args = parser.parse_args(argv)
    outputs = Path(args.outputs)
    IMAGES.mkdir(parents=True, exist_ok=True)
    missing = 0
    for name, pattern in DOCUMENTS.items():
        found = sorted(outputs.glob(pattern))
        if not found:
            print(f"{outputs / pattern}: not found (run make demo first)", file=sys.stderr)
            missing += 1
            continue
        page_image(found[0], IMAGES / f"{name}.png")
        print(f"docs/images/{name}.png <- {found[0]}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
