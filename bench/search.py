"""Search over 10,000 reports: how long `search_reports` takes, per query length and user.

    .venv/bin/python bench/search.py                  # SQLite, then PostgreSQL if reachable
    .venv/bin/python bench/search.py --no-postgres    # SQLite only
    .venv/bin/python bench/search.py --reports 2000   # a smaller corpus

Builds the corpus in a temporary SQLite file and, when ``psql`` reaches the local server, in
its own PostgreSQL database (``searchbench_<pid>``, dropped at the end); the schema comes from
the migrations, so the search index is the production one. 100 units in 10 supervision
groups × 100 periods; each report 3,000–5,000 characters of generated 阶段性总结 text drawn
from ~3,600 distinct words (Zipf-distributed, so some are everywhere and some rare); states
as in a live system (most approved, some returned to the unit with a newer draft).

Times the whole call (query, count, loading the 20 reports of the page, snippets) with a
fresh session each time, for a secretary (sees all), a supervision group member (sees their
10 units' forwarded reports) and a unit author (sees their unit's 100). Target: under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.models import Role, User  # noqa: E402
from app.core.config import TestConfig  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.org.models import SupervisionGroup, Unit  # noqa: E402
from app.periods.models import Period  # noqa: E402
from app.reports.models import Report, ReportVersion  # noqa: E402
from app.reports.workflow import ReportState  # noqa: E402
from app.search.backend import search_reports  # noqa: E402

PG = ["-h", "127.0.0.1", "-U", "postgres"]
GROUPS, UNITS_PER_GROUP = 10, 10
RUNS = 15


def words(text: str) -> list[str]:
    return text.split()


VERBS = words(
    "推动 深化 加强 落实 完善 健全 强化 推进 开展 抓好 "
    "提升 巩固 聚焦 压实 优化 夯实 筑牢 拓展 创新 规范"
)
PLACES = words(
    "基层 机关 社区 农村 企业 学校 医院 街道 园区 窗口 "
    "村级 县域 乡镇 部门 行业 网格 楼宇 景区 市场 站所 "
    "支部 党组 班子 队伍 青年 妇女 老年 退役 流动 新兴 "
    "两新 非公 城乡 区域 片区 口岸 车间 工地 矿区 港区 "
    "林区 牧区 渔村 集镇 小区 商圈 校园 院所 科室 中心 "
    "办所 站点 单位 系统 领域 条线 岗位 一线"
)
THINGS = words(
    "党建 服务 治理 宣讲 调研 整改 考核 培训 督导 监督 "
    "教育 管理 建设 发展 保障 帮扶 联系 议事 协商 调解 "
    "巡查 排查 评议 述职 承诺 公开 预警 应急 信访 安全 "
    "环境 文化 文明 志愿 民生 就业 医疗 养老 托育 消防 "
    "交通 水利 产业 项目 招商 科技 人才 金融 数据 信息 "
    "平台 阵地 品牌 机制 制度 台账 清单 责任"
)
FIXED_COMMON = "主题教育走深走实"  # an 8-character phrase in most reports
RARE_PHRASE = "璞玉计划青年人才"  # in RARE_COUNT reports only; 璞 occurs nowhere else
RARE_COUNT = 5
NUMERALS = "一二三四五六七八九十"


SAMPLES = ROOT.parent / "shared" / "samples"


def vocabulary() -> list[str]:
    words = [place + thing for place in PLACES for thing in THINGS]
    random.Random(7).shuffle(words)
    return words


def sample_phrases() -> list[str]:
    """Runs of Chinese between punctuation in ../shared/samples (when present), which bring
    the samples' own characters and word sequences into the generated text."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(SAMPLES.glob("*.txt"))]
    runs = re.findall(r"[\u4e00-\u9fff]{4,20}", "".join(texts))
    phrases = sorted({run for run in runs if "璞" not in run})
    random.Random(11).shuffle(phrases)
    return phrases


class Writer:
    """Generated report text in the style of the samples: headings 一、/（一）, 一是…二是…,
    statistics; words drawn with Zipf frequencies, so rank 1 is everywhere, the tail rare."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary()
        self.cumulative = list(accumulate(1 / (rank + 1) for rank in range(len(self.words))))
        self.phrases = sample_phrases()
        self.phrase_weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.phrases))))
        characters = set("".join(self.phrases) + "".join(self.words)) - set(RARE_PHRASE)
        self.characters = sorted(c for c in characters if "\u4e00" <= c <= "\u9fff")

    def word(self) -> str:
        return self.rng.choices(self.words, cum_weights=self.cumulative)[0]

    def phrase(self) -> str:
        return self.rng.choices(self.phrases, cum_weights=self.phrase_weights)[0]

    def place(self) -> str:
        """A village or community name: a rare pair of characters."""
        first, second = self.rng.choices(self.characters, k=2)
        return first + second + self.rng.choice(("村", "社区", "街道", "镇"))

    def clause(self) -> str:
        r = self.rng
        kind = r.randrange(6 if self.phrases else 5)
        if kind == 5:
            return self.phrase()
        if kind == 4:
            return f"在{self.place()}召开{self.word()}现场会，推广{self.place()}经验做法"
        if kind == 0:
            return f"{r.choice(VERBS)}{self.word()}，{r.choice(VERBS)}{self.word()}"
        if kind == 1:
            return f"开展{self.word()}活动{r.randint(2, 60)}次，覆盖{r.randint(100, 9000)}人次"
        if kind == 2:
            return f"梳理{self.word()}问题{r.randint(3, 40)}个，已整改到位{r.randint(1, 30)}个"
        return f"围绕{self.word()}，建立{self.word()}工作机制，形成{r.randint(2, 12)}项制度成果"

    def paragraph(self) -> str:
        points = self.rng.randint(2, 4)
        return "".join(
            f"{NUMERALS[i]}是{self.word()}。{self.clause()}；{self.clause()}。"
            for i in range(points)
        )

    def body(self, rare: bool = False) -> str:
        r = self.rng
        target = r.randint(3000, 5000)
        lines = [f"主题教育开展以来，我单位{r.choice(VERBS)}{self.word()}，{self.clause()}。"]
        section = 0
        while sum(len(line) + 1 for line in lines) < target:
            lines.append(f"{NUMERALS[section % 10]}、{r.choice(VERBS)}{self.word()}")
            for sub in range(r.randint(2, 3)):
                lines.append(
                    f"（{NUMERALS[sub]}）{r.choice(VERBS)}{self.word()}。{self.paragraph()}"
                )
            section += 1
        if rare:
            lines.insert(2, f"实施{RARE_PHRASE}培养工程，选拔优秀年轻干部{r.randint(5, 30)}名。")
        if r.random() < 0.8:
            lines.append(f"下一步，我们将持续用力，推动{FIXED_COMMON}。")
        return "\n".join(lines)


def seed(n_reports: int) -> dict[str, User]:
    """Groups, units, periods, three users, and ``n_reports`` reports with their versions."""
    groups = [SupervisionGroup(name=f"第{i + 1}指导组") for i in range(GROUPS)]
    units = [
        Unit(name=f"第{g + 1}组第{u + 1}单位", group=groups[g], sort_order=g * 100 + u)
        for g in range(GROUPS)
        for u in range(UNITS_PER_GROUP)
    ]
    n_periods = -(-n_reports // len(units))
    periods = [
        Period(name=f"第{i + 1}期阶段性总结", due_date=date(2020, 1, 1) + timedelta(weeks=i))
        for i in range(n_periods)
    ]
    db.session.add_all([*groups, *units, *periods])
    db.session.flush()

    def user(name: str, role: Role, **scope) -> User:
        person = User(
            username=name, display_name=name, password_hash="-", role=role, active=True, **scope
        )
        db.session.add(person)
        return person

    users = {
        "secretary": user("secretary", Role.SECRETARY),
        "group member": user("group1", Role.GROUP_MEMBER, group=groups[0]),
        "unit author": user("author", Role.AUTHOR, unit=units[0]),
    }
    db.session.flush()
    author_id = users["unit author"].id
    writer = Writer(1)
    rare_reports = set(random.Random(3).sample(range(n_reports), RARE_COUNT))
    now = datetime(2026, 11, 1, tzinfo=UTC)
    batch_reports, batch_versions = [], []
    version_id = 0
    for index, report_id in enumerate(range(1, n_reports + 1)):
        unit, period = units[index % len(units)], periods[index // len(units)]
        body = writer.body(rare=index in rare_reports)
        title = f"{unit.name}{period.name}"
        roll = writer.rng.random()
        state, versions, forwarded = (
            ("approved", 1, True)
            if roll < 0.56
            else ("approved", 2, True)
            if roll < 0.70
            else ("group_review", 1, True)
            if roll < 0.80
            else ("unit_review", 1, False)
            if roll < 0.85
            else ("draft", 0, False)
            if roll < 0.95
            else ("returned", 1, True)
        )
        texts = []
        if versions == 2:
            texts.append(writer.body())
        if versions:
            texts.append(body)
        if state == "returned":
            # Back with the unit, which has added to the draft since.
            body = body + "\n" + writer.paragraph()
            state = "draft"
        for number, text in enumerate(texts, 1):
            version_id += 1
            batch_versions.append(
                {
                    "id": version_id,
                    "report_id": report_id,
                    "number": number,
                    "title": title,
                    "body": text,
                    "created_by_id": author_id,
                    "created_at": now,
                }
            )
        batch_reports.append(
            {
                "id": report_id,
                "unit_id": unit.id,
                "period_id": period.id,
                "title": title,
                "body": body,
                "state": ReportState(state),
                "lock_version": 1,
                "created_by_id": author_id,
                "created_at": now,
                "updated_by_id": author_id,
                "updated_at": now,
                "state_changed_at": now,
                "first_forwarded_at": now if forwarded else None,
            }
        )
        if len(batch_reports) == 500 or index == n_reports - 1:
            db.session.execute(sa.insert(Report.__table__), batch_reports)
            if batch_versions:
                db.session.execute(sa.insert(ReportVersion.__table__), batch_versions)
            batch_reports, batch_versions = [], []
    db.session.commit()
    return users


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


CASES = [
    ("1 char, common", "党"),
    ("1 char, rare", "璞"),
    ("1 char, everywhere: a comma", "，"),
    ("2 chars, common", "建设"),
    ("2 chars, rare", "璞玉"),
    ("2 chars, a village name", None),  # filled in: the first village name of a report
    ("3 chars, common", "主题教"),
    ("3 chars, rare", "璞玉计"),
    ("4 chars, common", "主题教育"),
    ("4 chars, mid (a vocabulary word)", None),  # filled in: a word of middling frequency
    ("4 chars, rare", "璞玉计划"),
    ("8 chars, common", FIXED_COMMON),
    ("8 chars, rare", RARE_PHRASE),
    ("8 chars, nowhere", "不存在的一段文字"),
    ("two terms (4 + 2 chars)", "主题教育 建设"),
]


def run(app, label: str, users: dict[str, User]) -> list[str]:
    body = db.session.scalar(sa.select(Report.body).where(Report.id == 1))
    village = re.search(r"在(..)(?:村|社区|街道|镇)召开", body)
    filled = {
        "2 chars, a village name": village.group(1) if village else "响扶",
        "4 chars, mid (a vocabulary word)": vocabulary()[300],
    }
    cases = [(name, query or filled[name]) for name, query in CASES]
    rows = []
    print(f"\n{label}")
    print("| query | user | found | p50 | p95 |")
    print("|---|---|---|---|---|")
    ids = {name: person.id for name, person in users.items()}
    for case, query in cases:
        for who, user_id in ids.items():
            db.session.remove()
            user = db.session.get(User, user_id)
            page = search_reports(user, query)  # warm-up
            timings = []
            for _ in range(RUNS):
                db.session.remove()
                user = db.session.get(User, user_id)
                start = time.perf_counter()
                page = search_reports(user, query)
                timings.append((time.perf_counter() - start) * 1000)
            found = f"more than {page.total}" if page.more_than_total else page.total
            row = (
                f"| {case}: “{query}” | {who} | {found} | "
                f"{statistics.median(timings):.0f} ms | {percentile(timings, 0.95):.0f} ms |"
            )
            print(row, flush=True)
            rows.append(row)
    return rows


def explain_postgres(users: dict[str, User]) -> None:
    """Show that a two-character query is answered from the index of character pairs."""
    from app.search.backend import PostgresGramsBackend, matching_texts

    db.session.remove()
    user = db.session.get(User, users["secretary"].id)
    hits = matching_texts(user, ("璞玉",), PostgresGramsBackend())
    statement = sa.select(sa.func.count()).select_from(hits)
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    # Through the driver, which turns the compiler's escaped “%%” back into “%”.
    explain = f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}"
    plan = db.session.connection().exec_driver_sql(explain).scalars().all()
    print("\nEXPLAIN ANALYZE, secretary, “璞玉” (index lines):")
    for line in plan:
        if "Index" in line or "Execution Time" in line:
            print("   ", line.strip())


def existing_users() -> dict[str, User]:
    by_name = {u.username: u for u in db.session.scalars(sa.select(User))}
    return {
        "secretary": by_name["secretary"],
        "group member": by_name["group1"],
        "unit author": by_name["author"],
    }


def bench(url: str, label: str, n_reports: int, reuse: bool = False) -> None:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = None

    app = create_app(Config)
    with app.app_context():
        started = time.perf_counter()
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        users = existing_users() if reuse else seed(n_reports)
        built = time.perf_counter() - started
        counts = [
            db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (Report, ReportVersion)
        ]
        characters = db.session.scalar(sa.select(sa.func.sum(sa.func.length(Report.body))))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        print(
            f"\n{label}: {counts[0]} reports ({characters / counts[0]:.0f} characters on average),"
            f" {counts[1]} versions; built and indexed in {built:.0f} s"
        )
        run(app, label, users)
        if db.engine.dialect.name == "postgresql":
            explain_postgres(users)
        db.session.remove()
        db.engine.dispose()


def postgres_reachable() -> bool:
    try:
        return subprocess.run(["psql", *PG, "-c", "SELECT 1"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--keep", metavar="NAME", help="build the PostgreSQL corpus in database NAME and keep it"
    )
    parser.add_argument(
        "--reuse", metavar="NAME", help="run on the corpus kept by --keep NAME (migrated first)"
    )
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            bench(f"sqlite:///{tmp}/search.db", "SQLite", args.reports)
    if args.no_postgres:
        return
    if not postgres_reachable():
        print("\nPostgreSQL not reachable with psql -h 127.0.0.1 -U postgres: skipped.")
        return
    if args.reuse:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.reuse}"
        bench(url, "PostgreSQL", args.reports, reuse=True)
        return
    name = args.keep or f"searchbench_{os.getpid()}"
    subprocess.run(["createdb", *PG, name], check=True)
    try:
        bench(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", "PostgreSQL", args.reports)
    finally:
        if not args.keep:
            subprocess.run(["dropdb", *PG, "--if-exists", name], check=True)


if __name__ == "__main__":
    main()
