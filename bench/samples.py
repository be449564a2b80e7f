"""The real reports in ../shared/samples, when the developers' workspace has them (the
benchmarks run as scripts: ``python bench/pdf.py``, with this folder on the path)."""

import os
from pathlib import Path

SAMPLES = Path(
    os.environ.get("REPORTFLOW_SAMPLES")
    or Path(__file__).resolve().parents[2] / "shared" / "samples"
)
