"""Install the project's Jupyter kernel into the virtual environment.

Same as ``python -m ipykernel install --sys-prefix --name python3``, with the kernel's own log
kept to critical messages: papermill and nbval start a kernel per notebook, and its routine
start-up and shut-down lines would otherwise bury the commands' output. Errors inside a
notebook are unaffected (they are cell outputs, reported by papermill / nbval).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
               check=True, stdout=subprocess.DEVNULL)
spec_path = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
spec = json.loads(spec_path.read_text(encoding="utf-8"))
flag = "--IPKernelApp.log_level=CRITICAL"
if flag not in spec["argv"]:
    spec["argv"].append(flag)
spec_path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
