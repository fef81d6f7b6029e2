from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PROBE = (
    "import gc, sys; import revopsweb.wsgi; "
    "print(gc.get_freeze_count(), 'leads.tracker_views' in sys.modules)"
)


def test_a_worker_loads_every_view_and_freezes_them_out_of_the_collectors_walk():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "revopsweb.settings", "DEBUG": "true"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    frozen, views_loaded = int(out[0]), out[1]
    assert views_loaded == "True"
    # Django, the apps and their libraries: well over 50,000 objects at start.
    assert frozen > 50_000
