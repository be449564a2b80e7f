"""The compiled volume (汇编) and the ZIP of approved PDFs."""

import io
import re
import time
import zipfile
from datetime import date, timedelta

import pdfplumber
import pytest
import sqlalchemy as sa
from lxml import html as lxml_html
from pypdf import PdfReader

from app.auth.models import Role
from app.compilations import jobs
from app.compilations.models import CompileJob
from app.core.extensions import db
from app.core.times import to_local, utcnow
from app.reports.workflow import ReportState
from tests.conftest import IN_CI, make_report, make_user

REDIS_URL = "redis://127.0.0.1:6379/15"

BODY = "一、基本情况\n全区各级党组织扎实开展主题教育，推动各项工作落地见效。\n二、下一步打算\n持续深化学习，推动整改落实。"


def in_plates_of(monkeypatch, reports: int) -> None:
    """Volumes of more than ``reports`` reports laid out as plates, ``reports`` a batch."""
    from app.pdf import volume, workers

    monkeypatch.setattr(workers, "PART_SIZE", reports)
    monkeypatch.setattr(volume, "ONE_DOCUMENT_UP_TO", reports)


@pytest.fixture
def approved_three(org):
    return [
        make_report(org, unit, ReportState.APPROVED, body=BODY, title=f"{unit}单位阶段性总结")
        for unit in ("c", "a", "b")
    ]


def compile(client, web_app, **data):
    """Start a compilation as the browser does, wait for the worker, download the result."""
    response = client.post("/compile", data=data)
    assert response.status_code == 303, response.text
    job_page = response.location
    assert re.search(r"/compile/jobs/\d+$", job_page)
    web_app.extensions["compile_runner"].wait()
    status = client.get(job_page + ".json").get_json()
    assert status["status"] == "done", status
    assert status["percent"] == 100
    assert 'data-job-status="done"' in client.get(job_page).text
    return client.get(job_page + "/download")


def page_texts(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [re.sub(r"\s+", "", page.extract_text() or "") for page in document.pages]


@pytest.mark.parametrize("how", ["one document", "plates"])
def test_volume_has_cover_contents_odd_starts_and_bookmarks(
    org, client, login, approved_three, web_app, monkeypatch, tmp_path, how
):
    """Compiled through the /compile page: as one document, and (more reports than a part
    holds) from plates kept in the app's PDF cache."""
    from pathlib import Path

    if how == "plates":
        in_plates_of(monkeypatch, 2)
        monkeypatch.setitem(web_app.config, "PDF_CACHE_DIR", str(tmp_path))
    login(org["secretary"])
    response = compile(client, web_app, period_id=org.period.id, format="pdf")
    kept = list(Path(tmp_path / "plates").glob("*.pdf"))
    assert len([p for p in kept if "numbers" not in p.name]) == (3 if how == "plates" else 0)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    pages = page_texts(response.data)
    assert org.period.name in pages[0] and "汇编" in pages[0]
    assert pages[1].startswith("目录")
    # Unit order (甲, 乙, 丙), each report from an odd page, page numbers continuous.
    starts = [i + 1 for i, text in enumerate(pages) if "单位阶段性总结一、基本情况" in text]
    assert len(starts) == 3 and all(n % 2 for n in starts)
    order = [re.search(r"([abc])单位阶段性总结一、", pages[n - 1]).group(1) for n in starts]
    assert order == ["a", "b", "c"]
    contents = re.findall(r"单位阶段性总结·*(\d+)", pages[1])
    assert [int(n) for n in contents] == starts
    for number, text in enumerate(pages[1:], start=2):
        if text:  # blank pages before an odd start carry no number
            assert text.endswith(f"—{number}—")
    outline = PdfReader(io.BytesIO(response.data)).outline
    units = [item.title for item in outline if not isinstance(item, list)]
    assert units == ["甲单位", "乙单位", "丙单位"]
    assert [child.title for child in outline[1]] == ["一、基本情况", "二、下一步打算"]


def test_volume_of_chosen_units_and_zip(org, client, login, approved_three, web_app):
    login(org["admin"])
    response = compile(
        client, web_app, period_id=org.period.id, format="pdf", unit_id=[org.unit_b.id]
    )
    texts = "".join(page_texts(response.data))
    assert "b单位阶段性总结" in texts and "a单位阶段性总结一、" not in texts
    response = compile(client, web_app, period_id=org.period.id, format="zip")
    assert response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert names == [
            f"01-甲单位-{org.period.name}-a单位阶段性总结.pdf",
            f"02-乙单位-{org.period.name}-b单位阶段性总结.pdf",
            f"03-丙单位-{org.period.name}-c单位阶段性总结.pdf",
        ]
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
        # Each entry is dated with its approval, in the app's time zone (as the app shows it).
        by_unit = {r.unit.name: r for r in approved_three}
        for name in names:
            report = by_unit[name.split("-")[1]]
            local = to_local(report.approval.created_at)
            stamp = archive.getinfo(name).date_time
            expected = (local.year, local.month, local.day, local.hour, local.minute)
            assert stamp[:5] == expected and abs(stamp[5] - local.second) <= 1


def test_compile_page_and_permissions(org, client, login, approved_three):
    login(org["secretary"])
    html = client.get(f"/compile?period_id={org.period.id}").text
    assert html.count('name="unit_id"') == 3
    for user in ("author_a", "reviewer_a", "group1"):
        login(org[user])
        assert client.get("/compile").status_code == 403
        assert client.post("/compile", data={"period_id": org.period.id}).status_code == 403


def test_compile_without_approved_reports_says_so(org, client, login):
    make_report(org, "a", ReportState.GROUP_REVIEW)
    login(org["secretary"])
    response = client.post(
        "/compile", data={"period_id": org.period.id, "format": "pdf"}, follow_redirects=True
    )
    assert "没有已审定的汇报" in response.text
    assert "/compile/jobs/" not in response.request.path


def test_compile_pdf_command(runner, org, approved_three, tmp_path):
    output = tmp_path / "volume.pdf"
    result = runner.invoke(
        args=["compile-pdf", "--period", str(org.period.id), "-o", str(output), "--unit", "乙单位"]
    )
    assert result.exit_code == 0, result.output
    assert "1 篇" in result.output
    assert "b单位阶段性总结" in "".join(page_texts(output.read_bytes()))
    result = runner.invoke(args=["compile-pdf", "--period", "999", "-o", str(output)])
    assert result.exit_code != 0 and "不存在" in result.output


def test_jobs_are_private_to_whoever_started_them(org, client, login, approved_three, web_app):
    login(org["secretary"])
    response = client.post("/compile", data={"period_id": org.period.id, "format": "pdf"})
    job_page = response.location
    web_app.extensions["compile_runner"].wait()
    login(org["admin"])
    assert client.get(job_page).status_code == 200
    other = make_user("secretary2", Role.SECRETARY)
    db.session.commit()
    login(other)
    assert client.get(job_page).status_code == 404
    assert client.get(job_page + "/download").status_code == 404


def test_a_failing_job_says_so(org, client, login, approved_three, web_app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(jobs, "volume_pdf", broken)
    login(org["secretary"])
    response = client.post("/compile", data={"period_id": org.period.id, "format": "pdf"})
    web_app.extensions["compile_runner"].wait()
    page = client.get(response.location).text
    assert 'data-job-status="failed"' in page and "磁盘已满" in page
    assert client.get(response.location + "/download").status_code == 409


def test_rq_worker_runs_a_job_when_redis_is_configured(org, client, login, approved_three, web_app):
    redis = pytest.importorskip("redis")
    try:
        connection = redis.Redis.from_url(REDIS_URL)
        connection.ping()
    except redis.exceptions.ConnectionError:
        if IN_CI:
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    from rq import Queue

    queue = Queue("reportflow", connection=connection)
    queue.empty()
    web_app.config["REDIS_URL"] = REDIS_URL
    try:
        login(org["secretary"])
        response = client.post("/compile", data={"period_id": org.period.id, "format": "zip"})
        assert queue.count == 1
        job_id = int(response.location.rsplit("/", 1)[1])
        assert queue.jobs[0].func_name == "app.compilations.jobs._rq_run"
        assert queue.jobs[0].args == (job_id,)
        assert queue.jobs[0].timeout == jobs.RQ_JOB_TIMEOUT  # not RQ's 180 s
        # `rq worker reportflow` would call _rq_run in its own process with the deployment's
        # settings; here the same job function runs against the test database.
        run_compile_job_in(web_app, job_id)
        assert client.get(response.location + ".json").get_json()["status"] == "done"
    finally:
        web_app.config["REDIS_URL"] = None
        queue.empty()


def run_compile_job_in(app, job_id):
    from app.compilations.jobs import run_compile_job

    with app.app_context():
        run_compile_job(job_id)


SMALL_VOLUME = {
    "period": "期次",
    "compiled_on": date(2026, 11, 22),
    "compiler": "秘书",
    "font_dir": None,
}


def test_volume_laid_out_in_parts_matches_the_single_document(org, monkeypatch):
    """The parallel path numbers pages from the grid; it must print what one document does."""
    from datetime import date

    from app.pdf.render import PdfSource
    from app.pdf.volume import render_volume

    bodies = [
        BODY,
        BODY * 3,
        "一、情况\n" + "全区扎实推进各项工作，取得明显成效。" * 40,
        BODY * 9,
        BODY,
    ]
    sources = [
        PdfSource(f"第{n}篇阶段性总结", body, f"第{n}单位", "期次", date(2026, 11, 20))
        for n, body in enumerate(bodies, start=1)
    ]
    kwargs = {
        "period": "期次",
        "compiled_on": date(2026, 11, 22),
        "compiler": "秘书",
        "font_dir": None,
    }
    single = render_volume(sources, workers=1, **kwargs)
    in_plates_of(monkeypatch, 2)
    parts = render_volume(sources, workers=2, **kwargs)
    assert page_texts(parts) == page_texts(single)
    outline_single = [
        getattr(i, "title", None) or [c.title for c in i]
        for i in PdfReader(io.BytesIO(single)).outline
    ]
    outline_parts = [
        getattr(i, "title", None) or [c.title for c in i]
        for i in PdfReader(io.BytesIO(parts)).outline
    ]
    assert outline_parts == outline_single


def test_the_first_batch_is_sent_before_the_last_report_is_typeset(org, monkeypatch):
    """Typesetting every report first left the workers idle for a second of a 50-report
    volume: each batch is sent as soon as its own reports are typeset."""
    from datetime import date

    from app.pdf import plates, volume
    from app.pdf.render import PdfSource

    events = []
    typeset, lay_out_batch = volume.typeset, plates.lay_out_batch

    def logged_typeset(source, roles):
        events.append(("typeset", source.unit))
        return typeset(source, roles)

    def logged_batch(*args):
        events.append(("batch", len(args[3])))
        return lay_out_batch(*args)

    def no_fallback(*args):
        raise AssertionError("the plates failed: laid out as one document")

    monkeypatch.setattr(volume, "typeset", logged_typeset)
    monkeypatch.setattr(plates, "lay_out_batch", logged_batch)
    monkeypatch.setattr(volume, "_volume_as_one_document", no_fallback)
    in_plates_of(monkeypatch, 2)
    sources = [
        PdfSource(f"第{n}篇", BODY * (n % 3 + 1), f"第{n}单位", "期次", date(2026, 11, 20))
        for n in range(6)
    ]
    volume.render_volume(sources, workers=1, **SMALL_VOLUME)
    kinds = [kind for kind, _ in events]
    assert kinds.count("typeset") == 6 and sum(n for kind, n in events if kind == "batch") == 6
    assert kinds.index("batch") < len(kinds) - 1 - kinds[::-1].index("typeset")
    assert [unit for kind, unit in events if kind == "typeset"] == [s.unit for s in sources]


def test_page_number_layers_start_before_the_reports_are_typeset_and_grow_as_needed(
    app, monkeypatch, tmp_path
):
    """Layers are sent from an estimate while the first report is typeset, the rest when the
    pages are known; each layer numbers its hundred pages and is kept."""
    from app.pdf import plates
    from app.pdf.fonts import resolve_roles

    laid_out = []
    write_prepared = plates.write_prepared

    def logged(html, *files):
        laid_out.append(html)
        return write_prepared(html, *files)

    monkeypatch.setattr(plates, "write_prepared", logged)
    with app.app_context():
        numbers = plates.NumberLayers(resolve_roles(None), tmp_path, 1)
        numbers.need(150)
        assert len(laid_out) == 2
        layers = numbers.result(250)
    assert len(laid_out) == 3 and len(layers) == 3
    assert page_texts(layers[2])[0].replace(" ", "") == "—201—"
    assert page_texts(layers[1])[99].replace(" ", "") == "—200—"
    assert len(list((tmp_path / "plates").glob("numbers-*.pdf"))) == 3
    again = plates.NumberLayers(resolve_roles(None), tmp_path, 1)
    with app.app_context():
        assert again.result(250) == layers and len(laid_out) == 3


def test_a_layer_laid_out_by_the_pool_is_kept_from_the_pools_thread(app, tmp_path):
    """The worker pool's result is kept by a callback on the pool's own thread, also for a
    layer the volume ends up not needing."""
    from app.pdf import plates
    from app.pdf.fonts import resolve_roles

    with app.app_context():
        numbers = plates.NumberLayers(resolve_roles(None), tmp_path, 2)
        numbers.need(150)  # two layers; the volume needs the first only
        (layer,) = numbers.result(80)
    assert page_texts(layer)[79].replace(" ", "") == "—80—"
    deadline = time.monotonic() + 60
    while len(list((tmp_path / "plates").glob("numbers-*.pdf"))) < 2:
        assert time.monotonic() < deadline, "the layers were not kept"
        time.sleep(0.1)


@pytest.mark.parametrize("copies", [1, 4, 12])
def test_the_page_estimate_before_typesetting_is_close(app, copies):
    """Layers are started from it: it should rather run over (a layer too many is kept for
    the next volume) than under, and not by much."""
    from app.pdf.contents import lay_out_contents
    from app.pdf.fonts import resolve_roles
    from app.pdf.typesetting import predicted_pages, typeset
    from app.pdf.volume import estimated_last_page, report_starts

    sources = _volume_sources() * copies
    with app.app_context():
        roles = resolve_roles(None)
        docs = [typeset(source, roles) for source in sources]
        pages = [predicted_pages(doc) for doc in docs]
        starts = report_starts(pages, 1 + lay_out_contents(docs, roles).pages)
    last_page = starts[-1] + pages[-1] - 1
    estimate = estimated_last_page(sources)
    assert last_page - 2 <= estimate <= last_page * 1.1 + 2


def test_plate_font_widths_are_read_in_every_form_the_w_array_takes():
    import pikepdf

    from app.pdf.joining import _widths

    document = pikepdf.new()
    run = document.make_indirect(pikepdf.Array([500, 250.5]))
    arrays = {
        "inline": pikepdf.Array([1, pikepdf.Array([1000, -0.5, 0.25]), 10, 12, 600]),
        "indirect run": pikepdf.Array([1, pikepdf.Array([1000, -0.5, 0.25]), 10, 12, 600, 20, run]),
    }
    expected = {1: 1000.0, 2: -0.5, 3: 0.25, 10: 600.0, 11: 600.0, 12: 600.0}
    for name, widths in arrays.items():
        descendant = pikepdf.Dictionary(W=document.make_indirect(widths))
        font = pikepdf.Dictionary(DescendantFonts=pikepdf.Array([descendant]))
        extra = {20: 500.0, 21: 250.5} if name == "indirect run" else {}
        assert _widths(font) == expected | extra, name


def test_a_pool_broken_after_the_first_batch_falls_back_and_cancels_the_rest(org, monkeypatch):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from app.pdf import plates, volume, workers

    sent, cancelled, resets = [], [], []

    def run(count, function, *args):
        future = Future()
        if function is plates.lay_out_batch and plates.lay_out_batch in sent:
            raise BrokenProcessPool("a worker died")
        sent.append(function)
        future.cancel = lambda: cancelled.append(function) or True  # never started
        return future

    monkeypatch.setattr(workers, "run", run)
    monkeypatch.setattr(workers, "reset_pool", lambda: resets.append(1))
    in_plates_of(monkeypatch, 2)
    pdf = volume.render_volume(_volume_sources(), workers=2, **SMALL_VOLUME)
    assert page_texts(pdf)[1].startswith("目录") and resets == [1]
    assert plates.lay_out_batch in sent and plates.lay_out_batch in cancelled
    assert set(cancelled) >= {plates.write_prepared}  # the page numbers' layers


def test_a_report_that_cannot_be_typeset_fails_the_volume_without_a_second_try(org, monkeypatch):
    from app.pdf import volume

    attempts = []
    typeset = volume.typeset

    def failing(source, roles):
        if source.unit == "第4党支部":
            attempts.append(source.unit)
            raise ValueError("a report the typesetting cannot take")
        return typeset(source, roles)

    monkeypatch.setattr(volume, "typeset", failing)
    in_plates_of(monkeypatch, 2)
    with pytest.raises(ValueError, match="cannot take"):
        volume.render_volume(_volume_sources(), workers=1, **SMALL_VOLUME)
    assert attempts == ["第4党支部"]


@pytest.mark.parametrize("count", [9, 10, 17, 33, 50])
def test_parts_are_consecutive_balanced_and_fit_the_workers(count):
    from app.pdf.workers import PART_SIZE, split_evenly

    pages = [(n * 7) % 11 + 3 for n in range(count)]
    parts = split_evenly(pages, 2)
    assert [i for part in parts for i in part] == list(range(count))
    assert len(parts) % 2 == 0 and all(0 < len(part) <= PART_SIZE for part in parts)
    sizes = [sum(pages[i] for i in part) for part in parts]
    assert max(sizes) - min(sizes) <= max(pages) * 2


def test_a_broken_worker_pool_falls_back_to_one_document(org, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool
    from datetime import date

    from app.pdf import workers
    from app.pdf.render import PdfSource
    from app.pdf.volume import render_volume

    def broken_pool(workers):
        raise BrokenProcessPool("worker died")

    monkeypatch.setattr(workers, "pool", broken_pool)
    in_plates_of(monkeypatch, 1)
    sources = [
        PdfSource(f"第{n}篇", BODY, f"第{n}单位", "期次", date(2026, 11, 20)) for n in range(3)
    ]
    pdf = render_volume(sources, workers=2, **SMALL_VOLUME)
    texts = page_texts(pdf)
    assert texts[1].startswith("目录") and sum("第0篇一、基本情况" in t for t in texts) == 1


def test_thread_runner_restarts_after_idling_and_outlives_a_failing_job(app, caplog):
    import time

    from app.compilations.jobs import ThreadRunner

    done = []

    def work(job_id: int) -> None:
        if job_id == 2:
            raise ValueError("boom")
        done.append(job_id)

    runner = ThreadRunner(app, work, "test-runner", idle_seconds=0.01)
    runner.submit(1)
    runner.submit(2)
    runner.submit(3)
    runner.wait()
    assert done == [1, 3]
    assert "test-runner: job 2 failed" in caplog.text
    deadline = time.monotonic() + 5
    while runner.thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runner.thread is None  # idle: the thread has ended
    runner.submit(4)
    runner.wait()
    assert done == [1, 3, 4]


def test_thread_runner_does_not_strand_a_job_submitted_as_its_thread_gives_up(app):
    import queue
    import time

    from app.compilations.jobs import ThreadRunner

    done = []
    runner = ThreadRunner(app, done.append, "test-runner", idle_seconds=0.01)
    real_get = runner.jobs.get
    late = iter([7])

    def get(timeout=None):
        try:
            return real_get(timeout=timeout)
        except queue.Empty:
            job = next(late, None)
            if job is not None:
                # submit() at this moment finds the thread still alive and starts no other.
                runner.jobs.put(job)
            raise

    runner.jobs.get = get
    runner.submit(1)
    deadline = time.monotonic() + 5
    while (runner.thread is not None or done != [1, 7]) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert done == [1, 7]
    assert runner.thread is None


# --- a volume as one coherent document, in parts or not (issue 13 §3) ----------------------

LONG_UNIT = "中共某某市某某区委员会组织部机关第二党支部"
LONG_TITLE = "关于持续深化学习贯彻习近平新时代中国特色社会主义思想主题教育成果转化运用推动各项工作高质量发展的阶段性工作总结报告"
OUTLINE_BODY = (
    "一、基本情况\n（一）学习教育。全区各级党组织扎实开展主题教育，推动各项工作落地见效。\n"
    "（二）调查研究。班子成员深入基层一线，形成调研报告8篇。\n二、下一步打算\n持续深化学习，推动整改落实。"
)


def _volume_sources():
    from datetime import date

    from app.pdf.render import PdfSource

    sources = [
        PdfSource(
            f"第{n}党支部阶段性总结",
            OUTLINE_BODY * (n % 3 + 1),
            f"第{n}党支部",
            "期次",
            date(2026, 11, 20),
        )
        for n in range(1, 6)
    ]
    sources[2] = PdfSource(LONG_TITLE, OUTLINE_BODY, LONG_UNIT, "期次", date(2026, 11, 20))
    return sources


@pytest.fixture(scope="module")
def volumes(app, tmp_path_factory):
    """The same five reports as one document; from plates laid out by the worker processes
    (PART_SIZE 2: in three batches) and kept; and again from the kept plates alone."""
    from datetime import date

    from app.pdf import plates, volume, workers
    from app.pdf.volume import render_volume

    kwargs = {"period": "2026年第四季度", "compiled_on": date(2026, 11, 22), "compiler": "秘书"}
    cache = tmp_path_factory.mktemp("plates")
    made = {}

    def no_layout(*args):
        raise AssertionError("a kept plate was laid out again")

    with app.app_context():
        made["one document"] = render_volume(_volume_sources(), font_dir=None, workers=1, **kwargs)
        size, workers.PART_SIZE = workers.PART_SIZE, 2
        one_document, volume.ONE_DOCUMENT_UP_TO = volume.ONE_DOCUMENT_UP_TO, 2
        laying_out = plates.lay_out_batch
        try:
            made["parts"] = render_volume(
                _volume_sources(), font_dir=None, workers=2, cache_dir=cache, **kwargs
            )
            plates.lay_out_batch = no_layout
            made["kept plates"] = render_volume(
                _volume_sources(), font_dir=None, workers=1, cache_dir=cache, **kwargs
            )
        finally:
            plates.lay_out_batch = laying_out
            workers.PART_SIZE = size
            volume.ONE_DOCUMENT_UP_TO = one_document
    made["cache"] = cache
    return made


def _report_pages(pdf: bytes) -> dict[str, int]:
    """Page number (from 1) of the page each report starts on, found by its title."""
    texts = page_texts(pdf)
    found = {}
    for source in _volume_sources():
        pages = [n for n, text in enumerate(texts, start=1) if text.startswith(source.title)]
        assert len(pages) == 1, source.title
        found[source.title] = pages[0]
    return found


def _destination_page(pdf, annotation) -> int:
    import pikepdf

    action = annotation.get("/A")
    target = action.D if action is not None else annotation.Dest
    if isinstance(target, pikepdf.String):
        target = pikepdf.NameTree(pdf.Root.Names.Dests)[str(target)]
    return [p.obj.objgen for p in pdf.pages].index(target[0].objgen) + 1


@pytest.mark.parametrize("how", ["one document", "parts", "kept plates"])
def test_every_contents_entry_links_to_its_report(volumes, how):
    import pikepdf

    data = volumes[how]
    starts = _report_pages(data)
    entries = {
        source.title: re.sub(r"\d", "", source.unit + source.title) for source in _volume_sources()
    }
    pdf = pikepdf.open(io.BytesIO(data))
    targets = {}
    with pdfplumber.open(io.BytesIO(data)) as plumber:
        page = plumber.pages[1]
        for annotation in pdf.pages[1].obj.Annots:
            x0, y0, x1, y1 = (float(v) for v in annotation.Rect)
            if abs(y1 - y0) < 1:
                continue  # a zero-height box WeasyPrint links as well
            top, bottom = page.height - max(y0, y1), page.height - min(y0, y1)
            under = re.sub(r"[\s·\d]", "", page.crop((x0, top, x1, bottom)).extract_text() or "")
            target = _destination_page(pdf, annotation)
            (title,) = [t for t, n in starts.items() if n == target]
            assert under and under.replace("　", "") in entries[title]
            targets[title] = target
    assert targets == starts  # every report is linked, each to the page it starts on
    texts = page_texts(data)
    for title, number in starts.items():
        assert re.search(rf"{re.escape(title[-4:])}·+{number}", texts[1])


@pytest.mark.parametrize("how", ["one document", "parts", "kept plates"])
def test_volume_outline_has_both_heading_levels(volumes, how):
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(volumes[how]))
    pages = [p.obj.objgen for p in pdf.pages]
    starts = _report_pages(volumes[how])
    with pdf.open_outline() as outline:
        units = list(outline.root)
        assert [u.title for u in units] == [s.unit for s in _volume_sources()]
        for unit, source in zip(units, _volume_sources(), strict=True):
            assert pages.index(unit.destination[0].objgen) + 1 == starts[source.title]
            assert [c.title for c in unit.children][:2] == ["一、基本情况", "二、下一步打算"]
            assert [g.title for g in unit.children[0].children][:2] == [
                "（一）学习教育。",
                "（二）调查研究。",
            ]


@pytest.mark.parametrize("how", ["one document", "parts", "kept plates"])
def test_volume_metadata_language_and_font_names(volumes, how, tmp_path):
    import hashlib
    import shutil
    import subprocess

    import pikepdf

    pdf = pikepdf.open(io.BytesIO(volumes[how]))
    assert str(pdf.Root.Lang) == "zh-CN"
    info = pdf.docinfo
    assert str(info.Title) == "2026年第四季度汇编" and str(info.Author) == "秘书"
    assert str(info.Creator) == "ReportFlow" and str(info.CreationDate).startswith("D:20261122")
    meta = pdf.open_metadata()
    assert meta["dc:title"] == "2026年第四季度汇编" and meta["xmp:CreatorTool"] == "ReportFlow"
    assert meta["xmp:CreateDate"].startswith("2026-11-22")
    programs: dict[str, set[bytes]] = {}
    for page in pdf.pages:
        for font in page.obj.Resources.get("/Font", {}).values():  # blank pages have none
            descriptor = font.DescendantFonts[0].FontDescriptor
            program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            digest = hashlib.sha256(program.read_raw_bytes()).digest()
            name = str(font.BaseFont)[1:]
            assert re.fullmatch(r"[A-Z]{6}\+\S+", name), name
            assert str(descriptor.FontName)[1:] == name
            programs.setdefault(name, set()).add(digest)
    assert all(len(found) == 1 for found in programs.values()), programs
    tags = {}
    for name, (digest,) in programs.items():
        assert tags.setdefault(name[:6], digest) == digest  # one tag, one font program
    if shutil.which("qpdf"):
        path = tmp_path / "volume.pdf"
        path.write_bytes(volumes[how])
        check = subprocess.run(["qpdf", "--check", path], capture_output=True, text=True)
        assert check.returncode == 0 and "WARNING" not in check.stdout + check.stderr


@pytest.mark.parametrize("how", ["parts", "kept plates"])
def test_parts_print_what_one_document_prints(volumes, how):
    assert page_texts(volumes[how]) == page_texts(volumes["one document"])


@pytest.mark.parametrize("how", ["parts", "kept plates"])
def test_plates_are_drawn_where_one_document_draws_them(volumes, how, tmp_path):
    """Every page as pixels: the plates, the page numbers laid over them and the shared font
    programs print what one WeasyPrint document prints, pixel for pixel (a volume without its
    page numbers differs in 22–31 pixels a page at this resolution)."""
    import subprocess

    from PIL import Image, ImageChops

    images = {}
    for name in ("one document", how):
        path = tmp_path / f"{name.replace(' ', '-')}.pdf"
        path.write_bytes(volumes[name])
        subprocess.run(["pdftoppm", "-r", "40", "-gray", path, tmp_path / name[:3]], check=True)
        images[name] = sorted(tmp_path.glob(f"{name[:3]}-*.pgm"))
    assert len(images[how]) == len(images["one document"])
    for one, other in zip(images["one document"], images[how], strict=True):
        difference = ImageChops.difference(Image.open(one), Image.open(other))
        assert sum(difference.histogram()[32:]) < 5, (one.name, difference.getbbox())


@pytest.mark.parametrize("how", ["parts", "kept plates"])
def test_page_numbers_laid_over_plates_sit_where_the_margin_boxes_put_them(volumes, how):
    """The layers' numbers are lines of the page's body (templates/pdf/page_numbers.html), one
    document's are official.css's margin boxes: every glyph at the same place to 0.01 pt."""

    def numbers(pdf: bytes) -> list[list[tuple]]:
        with pdfplumber.open(io.BytesIO(pdf)) as document:
            return [
                [
                    (c["text"], round(c["x0"], 2), round(c["x1"], 2), round(c["top"], 2))
                    for c in page.chars
                    if abs(c["size"] - 14) < 0.01
                ]
                for page in document.pages
            ]

    one, other = numbers(volumes["one document"]), numbers(volumes[how])
    assert len([page for page in one if page]) >= 6  # the cover and blank pages have none
    assert other == one


def test_kept_plates_are_small_and_named_by_their_text(volumes):
    """One plate per report under the key of its text and fonts, as many pages as the grid
    says, without font programs (the volume embeds programs of its own)."""
    from dataclasses import replace

    import pikepdf

    from app.pdf.fonts import resolve_roles
    from app.pdf.plates import plate_path
    from app.pdf.typesetting import predicted_pages, typeset

    roles = resolve_roles(None)
    kept = [p for p in (volumes["cache"] / "plates").glob("*.pdf") if "numbers" not in p.name]
    assert len(kept) == len(_volume_sources())
    for source in _volume_sources():
        path = plate_path(volumes["cache"], source, roles)
        assert not plate_path(
            volumes["cache"], replace(source, body=source.body + "。"), roles
        ).exists()
        with pikepdf.open(path) as plate:
            assert len(plate.pages) == predicted_pages(typeset(source, roles))
            for page in plate.pages:
                for font in page.Resources.Font.values():
                    descriptor = font.DescendantFonts[0].FontDescriptor
                    assert not {"/FontFile2", "/FontFile3"} & set(descriptor.keys())
        assert path.stat().st_size < 60_000


@pytest.mark.parametrize("how", ["one document", "parts", "kept plates"])
def test_contents_lines_hang_and_never_leave_the_leader_alone(volumes, how):
    """Positions read back with pdfplumber: an entry's first line starts at the type area's
    left edge, its continuations two grid characters in; lines before the last stay out of the
    page-number column; the last line starts with text, not the leader."""
    from app.pdf.contents import HANGING_INDENT, NUMBER_COLUMN
    from app.pdf.typesetting import MM

    left, right = 28 * MM, 28 * MM + 156 * MM
    with pdfplumber.open(io.BytesIO(volumes[how])) as document:
        lines = document.pages[1].extract_text_lines()[1:]  # after 目录
    starts = [line for line in lines if line["text"].startswith(("第", "中共"))]
    assert len(starts) == 5
    long_entry = lines[lines.index(next(i for i in lines if i["text"].startswith("中共"))) :][:5]
    first, *rest = long_entry
    continued = rest[: next(i for i, line in enumerate(rest) if "·" in line["text"]) + 1]
    assert len(continued) >= 3  # the long title takes four lines or more
    assert abs(first["x0"] - left) < 0.5
    for line in continued:
        assert abs(line["x0"] - (left + HANGING_INDENT)) < 0.5, line
    for line in [first, *continued[:-1]]:
        assert line["x1"] <= right - NUMBER_COLUMN + 0.5 and "·" not in line["text"]
    for line in lines:
        if "·" in line["text"]:
            before = line["text"].split("·")[0].strip()
            assert len(before) >= 2, line["text"]  # never the leader and number alone
            assert abs(line["x1"] - right) < 1.0  # the number ends at the type area's edge


@pytest.mark.parametrize("length", range(1, 90))
def test_contents_entries_of_every_length(length):
    from app.pdf.contents import (
        HANGING_INDENT,
        MIN_LEADER,
        NUMBER_COLUMN,
        SEPARATOR,
        _width,
        break_entry,
    )
    from app.pdf.fonts import advance_em, resolve_roles
    from app.pdf.linebreak import NO_START, is_runt
    from app.pdf.typesetting import BODY_SIZE, TYPE_WIDTH

    roles = resolve_roles(None)
    title = ("关于推进主题教育，" * 10)[:length]
    lines = break_entry("第一党支部", title, roles)
    assert "".join(line.unit + line.text for line in lines) == f"第一党支部{SEPARATOR}{title}"
    assert [line.last for line in lines] == [False] * (len(lines) - 1) + [True]
    assert [line.hanging for line in lines] == [False] + [True] * (len(lines) - 1)
    body, heading = advance_em(roles["body"]), advance_em(roles["heading1"])
    for line in lines:
        widths = [heading(c) * BODY_SIZE for c in line.unit] + [
            body(c) * BODY_SIZE for c in line.text
        ]
        room = TYPE_WIDTH - NUMBER_COLUMN - (HANGING_INDENT if line.hanging else 0)
        room -= MIN_LEADER if line.last else 0
        assert _width(widths, 0, len(widths)) <= room + 1e-6
        assert (line.unit + line.text)[0] not in NO_START
    if len(lines) > 1:
        assert not is_runt(lines[-1].text)


def running_job(org, heartbeat_age: timedelta | None) -> CompileJob:
    """A job some process took on; its heartbeat last written ``heartbeat_age`` ago."""
    now = utcnow()
    job = CompileJob(
        period=org.period,
        output="pdf",
        status="running",
        done=1,
        total=4,
        created_by=org["secretary"],
        created_at=now - timedelta(hours=1),
        heartbeat_at=None if heartbeat_age is None else now - heartbeat_age,
    )
    db.session.add(job)
    db.session.commit()
    return job


def test_a_job_whose_worker_died_is_shown_interrupted_not_running(
    org, client, login, web_app, monkeypatch
):
    monkeypatch.setitem(web_app.config, "COMPILE_HEARTBEAT_SECONDS", 10)  # stale after 60 s
    dead = running_job(org, timedelta(seconds=61))
    alive = running_job(org, timedelta(seconds=30))
    before_heartbeats = running_job(org, None)  # started before 0010: only created_at to go by
    login(org["secretary"])
    page = client.get(f"/compile/jobs/{dead.id}").text
    assert 'data-job-status="failed"' in page and "生成中断，请重新生成" in page
    assert 'http-equiv="refresh"' not in page  # the page stops polling
    status = client.get(f"/compile/jobs/{alive.id}.json").get_json()
    assert status["status"] == "running" and status["error"] is None
    status = client.get(f"/compile/jobs/{before_heartbeats.id}.json").get_json()
    assert status == {**status, "status": "failed", "error": jobs.INTERRUPTED}
    db.session.expire_all()
    assert db.session.get(CompileJob, dead.id).finished_at is not None
    assert client.get(f"/compile/jobs/{dead.id}/download").status_code == 409


def test_the_compile_page_lists_an_interrupted_job_as_failed(
    org, client, login, web_app, monkeypatch
):
    monkeypatch.setitem(web_app.config, "COMPILE_HEARTBEAT_SECONDS", 10)
    job = running_job(org, timedelta(minutes=5))
    login(org["secretary"])
    page = lxml_html.fromstring(client.get("/compile").text)
    [row] = page.xpath(f"//a[@href='/compile/jobs/{job.id}']/ancestor::tr")
    assert "失败" in row.text_content() and "进行中" not in row.text_content()


@pytest.mark.committed  # the heartbeat writes on a connection of its own
def test_the_heartbeat_beats_while_the_job_runs_and_stops_after(org):
    job = running_job(org, timedelta(minutes=5))
    first = job.heartbeat_at

    def heartbeat_now():
        db.session.expire_all()
        return db.session.get(CompileJob, job.id).heartbeat_at

    with jobs.Heartbeat(db.engine, job.id, 0.05):
        deadline = time.monotonic() + 10
        while heartbeat_now() == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heartbeat_now() > first
    stopped_at = heartbeat_now()
    time.sleep(0.2)
    assert heartbeat_now() == stopped_at  # the beats end with the job
    # A job already marked failed (or done) is left as it is.
    db.session.execute(sa.update(CompileJob).values(status="failed"))
    db.session.commit()
    with jobs.Heartbeat(db.engine, job.id, 0.02):
        time.sleep(0.2)
    assert heartbeat_now() == stopped_at


def test_an_approval_lays_the_plate_out_ahead(org, client, login, web_app, tmp_path, monkeypatch):
    """The group approves through the report page; the approved version's plate is sent off
    to be laid out in the background, and once it has been, a volume holding the report lays
    out nothing but its front matter."""
    from datetime import date
    from pathlib import Path

    from app.pdf import jobs as pdf_jobs
    from app.pdf import plates
    from app.pdf.fonts import resolve_roles
    from app.pdf.volume import render_volume
    from app.reports import exports
    from app.reports.exports import approved_source
    from app.reports.models import Report
    from tests.test_reports import transition

    sent = []
    monkeypatch.setitem(web_app.config, "PDF_PLATES_AHEAD", True)
    monkeypatch.setitem(web_app.config, "PDF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(exports, "keep_plate_later", lambda *args: sent.append(args))
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=BODY, title="甲单位阶段性总结")
    login(org["group1"])
    assert transition(client, report.id, "approve").status_code == 303
    db.session.expire_all()
    report = db.session.get(Report, report.id)
    assert report.state is ReportState.APPROVED
    source = approved_source(report)
    font_dir = web_app.config.get("FONT_DIR") or None
    assert sent == [(source, font_dir, str(tmp_path), None)]

    with web_app.app_context():
        pdf_jobs._keep_plate(*sent[0][:3])  # what the pool process runs
    font_dir = Path(font_dir) if font_dir else None
    assert plates.plate_path(tmp_path, source, resolve_roles(font_dir)).exists()

    def no_layout(*args):
        raise AssertionError("the kept plate was laid out again")

    monkeypatch.setattr(plates, "lay_out_batch", no_layout)
    in_plates_of(monkeypatch, 0)  # a volume of one report, from its plate
    with web_app.app_context():
        pdf = render_volume(
            [source],
            period="期次",
            compiled_on=date(2026, 11, 22),
            compiler="秘书",
            font_dir=font_dir,
            cache_dir=tmp_path,
            workers=1,
        )
    texts = page_texts(pdf)
    assert texts[1].startswith("目录") and texts[2].startswith("甲单位阶段性总结")


def test_a_damaged_plate_in_the_cache_still_gives_the_volume(app, volumes, tmp_path, monkeypatch):
    from datetime import date

    from app.pdf.volume import render_volume

    in_plates_of(monkeypatch, 2)
    kwargs = {"period": "2026年第四季度", "compiled_on": date(2026, 11, 22), "compiler": "秘书"}
    with app.app_context():
        render_volume(_volume_sources(), font_dir=None, workers=1, cache_dir=tmp_path, **kwargs)
        plate = next(p for p in (tmp_path / "plates").glob("*.pdf") if "numbers" not in p.name)
        plate.write_bytes(plate.read_bytes()[: plate.stat().st_size // 3])  # a disk's damage
        pdf = render_volume(
            _volume_sources(), font_dir=None, workers=1, cache_dir=tmp_path, **kwargs
        )
    assert page_texts(pdf) == page_texts(volumes["one document"])


@pytest.mark.parametrize(
    "odd", ["\U000f0001", "♞"], ids=["no face has it", "only a system face has it"]
)
def test_a_character_outside_the_role_faces_leaves_the_other_reports_whole(
    app, tmp_path, monkeypatch, caplog, odd
):
    """A report printing a character that no role face has: WeasyPrint gives that plate's
    font an encoding of its own (or a face of fontconfig's), which the volume's shared font
    programs cannot serve. That font keeps its own program; every other page prints as in
    one document of the same reports without that character, and the volume still comes from
    its plates. (One document with it is no reference: its one body font takes WeasyPrint's
    encoding, and the cover's date no longer reads back.)"""
    import subprocess
    from dataclasses import replace
    from datetime import date

    from PIL import Image, ImageChops

    from app.pdf.render import PdfSource
    from app.pdf.volume import render_volume

    bodies = [f"一、基本情况\n第一个单位的正文{odd}，推动工作。", BODY, BODY * 2]
    sources = [
        PdfSource(f"第{n}篇阶段性总结", body, f"第{n}单位", "期次", date(2026, 11, 20))
        for n, body in enumerate(bodies, start=1)
    ]
    kwargs = {"period": "期次", "compiled_on": date(2026, 11, 22), "compiler": "秘书"}
    plain = [replace(s, body=s.body.replace(odd, "")) for s in sources]
    with app.app_context():
        one = render_volume(plain, font_dir=None, workers=1, **kwargs)
        in_plates_of(monkeypatch, 1)
        plated = render_volume(sources, font_dir=None, workers=1, cache_dir=tmp_path, **kwargs)
    assert "failed" not in caplog.text  # joined from the plates, not laid out again
    texts, expected = page_texts(plated), page_texts(one)
    assert texts[2].startswith("第1篇阶段性总结") and len(texts) == len(expected)
    assert texts[:2] + texts[3:] == expected[:2] + expected[3:]
    for name, data in (("one", one), ("plated", plated)):
        (tmp_path / f"{name}.pdf").write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", "40", "-gray", tmp_path / f"{name}.pdf", tmp_path / name],
            check=True,
        )
    pairs = zip(
        sorted(tmp_path.glob("one-*.pgm")), sorted(tmp_path.glob("plated-*.pgm")), strict=True
    )
    for number, (first, second) in enumerate(pairs, start=1):
        difference = ImageChops.difference(Image.open(first), Image.open(second))
        assert number == 3 or sum(difference.histogram()[32:]) < 5, first.name
