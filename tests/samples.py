"""The real reports in ../shared/samples (one paragraph per line), beside the repository in
the developers' workspace. A user's clone has none: the tests that read them skip."""

import os
from pathlib import Path

import pytest

# REPORTFLOW_SAMPLES: another folder of samples (a worktree, a copy elsewhere).
SAMPLES_DIR = Path(
    os.environ.get("REPORTFLOW_SAMPLES")
    or Path(__file__).resolve().parents[2] / "shared" / "samples"
)
SAMPLES = sorted(SAMPLES_DIR.glob("*.txt")) if SAMPLES_DIR.is_dir() else []
needs_samples = pytest.mark.skipif(not SAMPLES, reason="../shared/samples is not present")
