"""What a pool process runs first, by path (``runpy.run_path``), before anything of
the app is imported.

Importing the app, WeasyPrint and fontTools takes a new process 3–4 s of CPU. At normal
priority, two pools starting at once beside the page views (two web workers' first long PDFs)
made every page view for ~7 s take half a second (docs/benchmarks.md). So the imports run
on a thread of their own at idle priority (a thread's policy; an unprivileged process could
not raise its main thread's priority again, and it lays out the volumes a secretary waits
for), and the process then starts as ``workers.start_worker`` says.
"""

import os
import sys
import threading

# Read before the imports, which may take long: the parent may be gone by their end.
_parent = os.getppid()
_imported_at: list[int | None] = []


def _import_quietly() -> None:
    # workers.lower_this_thread, which cannot be imported before the imports it lowers.
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        if sys.platform.startswith("linux"):
            os.nice(19)  # on Linux, this thread's only (elsewhere the whole process's)
    import app.pdf.jobs  # noqa: F401  (with it the workers, the layout and WeasyPrint)

    try:
        _imported_at.append(os.sched_getscheduler(0))
    except (AttributeError, OSError):
        _imported_at.append(None)


_importer = threading.Thread(target=_import_quietly, name="import-quietly")
_importer.start()
_importer.join()

# Imported above, at once; or, if the import failed there, here, where the error is raised.
from app.pdf.workers import start_worker  # noqa: E402

start_worker(_imported_at[0] if _imported_at else None, _parent)
