"""Hypothesis profile for the fuzz tests: deterministic, no example database, nothing written to the repo."""

from __future__ import annotations

import atexit
import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps caches under ./.hypothesis by default; the fuzz run leaves the checkout untouched.
_HOME = tempfile.mkdtemp(prefix="fashionbot-hypothesis-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
set_hypothesis_home_dir(_HOME)

# Tests take it with @settings(settings.get_profile("fuzz"), max_examples=...): CI sees the same examples
# on every run, and each test states its own budget. Loading it globally would change other suites too.
settings.register_profile(
    "fuzz",
    derandomize=True,
    database=None,
    deadline=None,  # each test asserts its own time limit, measured, rather than hypothesis's
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
