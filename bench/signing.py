"""What signing and verifying an approved PDF cost.

Run: .venv/bin/python bench/signing.py — makes a throw-away CA (EC P-256, as `pki init`), lays
out a 10-page report once as PDF/A-2b, then prints, over repeated runs, the median and best
wall time and CPU time of: signing it (the signature box, the CMS, the incremental update),
verifying the signed file (`app.verify.checking.check_pdf`: parse, digest, CMS, certificate
path), verifying an altered copy and an unsigned one; and the bytes the signature adds. CPU time
is what the work costs; wall time on a loaded machine adds waiting for a core.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

from app import create_app
from app.core.config import TestConfig
from app.pdf.fonts import resolve_roles
from app.pdf.render import PdfSource, render_pdf
from app.pdf.signing import Issue, load_signing_key, make_development_pki, sign_pdf
from app.verify.checking import Trust, check_pdf

PARAGRAPH = (
    "（{n}）推进第{n}项重点工作。一是强化组织领导，成立工作专班，明确责任分工，建立周调度、"
    "月通报制度；二是深化学习教育，开展集中学习{m}场次，参学率达98.5%，推动各项任务落地见效。"
)
RUNS = 30


def timed(action, runs: int = RUNS) -> tuple[float, float, float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), min(walls), statistics.median(cpus), min(cpus)


def report(label: str, figures: tuple[float, float, float, float]) -> None:
    wall, best_wall, cpu, best_cpu = (f * 1000 for f in figures)
    print(
        f"{label:<28} wall median {wall:6.1f} ms (best {best_wall:5.1f})   "
        f"CPU median {cpu:6.1f} ms (best {best_cpu:5.1f})"
    )


def main() -> None:
    app = create_app(TestConfig)
    with app.app_context(), tempfile.TemporaryDirectory() as folder:
        pki = make_development_pki(Path(folder))
        key = load_signing_key(pki.pkcs12, None)
        body = "\n".join(PARAGRAPH.format(n=n, m=n * 3) for n in range(1, 46))
        source = PdfSource(
            title="关于第二批主题教育阶段性工作情况的报告",
            body=body,
            unit="县卫生健康局党组",
            period="第二批主题教育10月份阶段性总结",
            signed_on=date(2026, 11, 22),
        )
        roles = resolve_roles(None)
        plain = render_pdf(source, None)
        pages = len(PdfReader(BytesIO(plain)).pages)
        issue = Issue(1, 3, 42, "李明华", datetime(2026, 11, 22, 15, 8))
        sign_pdf(plain, issue, key, roles["heading1"])  # warm: imports, the face's HarfBuzz blob
        signed = sign_pdf(plain, issue, key, roles["heading1"])
        trust = Trust(key)
        assert check_pdf(signed, trust).genuine
        print(
            f"{pages}-page report, PDF/A-2b: {len(plain) / 1024:.0f} KB unsigned, "
            f"{len(signed) / 1024:.0f} KB signed (+{(len(signed) - len(plain)) / 1024:.1f} KB)"
        )
        report("sign", timed(lambda: sign_pdf(plain, issue, key, roles["heading1"])))
        report("verify genuine", timed(lambda: check_pdf(signed, trust)))
        middle = len(signed) // 3
        altered = signed[:middle] + bytes([signed[middle] ^ 1]) + signed[middle + 1 :]
        report("verify altered", timed(lambda: check_pdf(altered, trust)))
        report("verify unsigned", timed(lambda: check_pdf(plain, trust)))


if __name__ == "__main__":
    main()
