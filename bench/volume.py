"""The compiled volume (汇编) of 50 and 200 reports: time, size and peak memory summed over
every process that takes part (this one and the worker pool).

Run: .venv/bin/python bench/volume.py [COUNT ...] [--part-size N] [--fresh] [--keep] [--no-cache]
(default: 50 200)

Each count is compiled twice with one plate cache (``app/pdf/plates.py``): "cold", every
report laid out and kept, and "warm", the same volume again, every report from the cache (as
for any volume of reports compiled before). ``--no-cache``: once, without a cache.

Each count runs in a fresh interpreter (``--one COUNT``), so that one run's peaks are not the
next one's. The pool is started before the clock starts, as the /compile page does while the
secretary chooses the units. A volume is compiled on a thread of a web worker (without
``REDIS_URL``) or in a horse forked by the RQ worker; both typeset a report while they warm up
(app/server/warmup.py), and this process does the same first. ``--fresh``: it does not; its
first report then reads the faces' metrics and builds the title segmenter (~0.5 s of CPU, and
~100 MB, before the first batch can go). Memory is read from /proc: the resident set of this process and
its pool workers, sampled every 20 ms and summed (the peak of the sum), and the sum of each
process's own peak (VmHWM; an upper bound: the peaks need not coincide). The resident sets
count a page shared by several processes (the libraries) once in each, so the peak of the
summed proportional sets is printed too (each shared page divided among the processes that
map it: what they take of the machine together; read from /proc/<pid>/smaps_rollup every
0.2 s, which costs more than the resident set).
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from samples import SAMPLES

GENERATED = "\n".join(
    [
        "一、总体情况",
        *(
            f"（{'一二三四五六七八九'[n % 9]}）推进第{n}项重点工作。一是强化组织领导，成立工作专班"
            f"{n % 7 + 2}个，明确责任分工；二是深化学习教育，开展集中学习{n * 3}场次，参学率达"
            f"{90 + n % 10}.5%。"
            for n in range(1, 40)
        ),
    ]
)


def bodies() -> list[str]:
    found = sorted(SAMPLES.glob("*.txt")) if SAMPLES.is_dir() else []
    return [path.read_text(encoding="utf-8") for path in found] or [GENERATED]


def _kb(field: str, pid: int, table: str = "status") -> int:
    """A field of /proc/<pid>/<table> in kB (0 once the process is gone). ``Pss:`` of
    ``smaps_rollup``: the process's private pages and its share of the pages it shares with
    others (the libraries, the font files mapped by several processes)."""
    try:
        with open(f"/proc/{pid}/{table}", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """This process's children, their children… (read from /proc/<pid>/task/*/children)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.append(child)
                    queue.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """The peak, over time, of the summed resident memory of this process and its children:
    the sum of their resident sets (which counts a page shared by several processes once in
    each) and the sum of their proportional sets (what they take of the machine together)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.running = True

    def run(self) -> None:
        me = os.getpid()
        for sample in itertools.count():
            if not self.running:
                break
            pids = [me, *descendants(me)]
            self.peak_kb = max(self.peak_kb, sum(_kb("VmRSS:", pid) for pid in pids))
            if sample % 10 == 0:  # every 0.2 s: a reading takes ~1 ms of CPU a process
                self.peak_pss_kb = max(
                    self.peak_pss_kb, sum(_kb("Pss:", pid, "smaps_rollup") for pid in pids)
                )
            time.sleep(0.02)


def one(count: int, args: argparse.Namespace) -> None:
    from pypdf import PdfReader

    from app import create_app
    from app.core.config import TestConfig
    from app.pdf import workers
    from app.pdf.render import PdfSource
    from app.pdf.volume import render_volume

    texts = bodies()
    sources = [
        PdfSource(
            f"第{n}单位关于主题教育开展情况的阶段性总结",
            texts[n % len(texts)],
            f"第{n}单位",
            "2026年第四季度",
            date(2026, 11, 20),
        )
        for n in range(1, count + 1)
    ]
    if args.part_size:
        workers.PART_SIZE = args.part_size
    app = create_app(TestConfig)
    with app.app_context():
        if not args.fresh:  # as a web worker or the RQ worker is before a volume comes
            from app.server.warmup import warm_up_typesetting

            warm_up_typesetting(app)
        workers.warm_up_workers()
        pool = workers.pool(2)
        for future in [pool.submit(workers._ready) for _ in range(4)]:
            future.result()
        time.sleep(1)
        before_kb = sum(_kb("VmRSS:", pid) for pid in [os.getpid(), *descendants(os.getpid())])
        sampler = Sampler()
        sampler.start()
        pids = [os.getpid(), *descendants(os.getpid())]
        cpu_each = [cpu_seconds([pid]) for pid in pids]
        start = time.perf_counter()
        pdf = render_volume(
            sources,
            period="2026年第四季度",
            compiled_on=date(2026, 11, 22),
            compiler="秘书",
            font_dir=None,
            cache_dir=Path(args.cache) if args.cache else None,
        )
        seconds = time.perf_counter() - start
        cpu_each = [cpu_seconds([pid]) - before for pid, before in zip(pids, cpu_each, strict=True)]
        cpu = sum(cpu_each)
        sampler.running = False
        sampler.join()
        processes = [os.getpid(), *descendants(os.getpid())]
        peaks = [_kb("VmHWM:", pid) // 1024 for pid in processes]
        hwm = sum(peaks) * 1024
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(
        f"{args.label:<6}{count:>4} reports {pages:>5} pages {seconds:6.1f} s"
        f" (CPU of all processes {cpu:5.1f} s: {' + '.join(f'{c:.1f}' for c in cpu_each)})"
        f" {len(pdf) / 2**20:5.1f} MB; memory of {len(processes)} processes:"
        f" {before_kb / 1024:4.0f} MB before, peak of the sum {sampler.peak_kb / 1024:5.0f} MB"
        f" (proportional sets: {sampler.peak_pss_kb / 1024:4.0f} MB),"
        f" sum of the peaks {hwm / 1024:5.0f} MB ({' + '.join(map(str, peaks))});"
        f" parts of ≤ {workers.PART_SIZE} reports; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if args.keep:
        Path(f"/tmp/volume-{count}.pdf").write_bytes(pdf)
    workers.reset_pool()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("counts", nargs="*", type=int, default=[50, 200])
    parser.add_argument("--one", type=int, help="one count, in this process")
    parser.add_argument("--part-size", type=int, help="reports per part (workers.PART_SIZE)")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="compile in a process that has typeset nothing before",
    )
    parser.add_argument("--keep", action="store_true", help="write /tmp/volume-COUNT.pdf")
    parser.add_argument(
        "--no-cache", action="store_true", help="no plate cache: every report laid out each time"
    )
    parser.add_argument("--cache", help=argparse.SUPPRESS)  # the plate cache of one run
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if args.one:
        one(args.one, args)
        return
    extra = [*(["--part-size", str(args.part_size)] if args.part_size else [])]
    flags = (("--fresh", args.fresh), ("--keep", args.keep))
    extra += [flag for flag, on in flags if on]
    for count in args.counts:
        if args.no_cache:
            subprocess.run([sys.executable, __file__, "--one", str(count), *extra], check=True)
            continue
        with tempfile.TemporaryDirectory(prefix="volume-bench-") as cache:
            # The first volume lays every report out and keeps its plate; the second is the
            # same volume compiled again (or any volume of reports laid out before).
            for label in ("cold", "warm"):
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--one",
                        str(count),
                        "--cache",
                        cache,
                        "--label",
                        label,
                        *extra,
                    ],
                    check=True,
                )


if __name__ == "__main__":
    main()
