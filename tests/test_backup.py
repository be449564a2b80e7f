"""``flask backup`` / ``flask restore`` on the suite's database (SQLite or PostgreSQL).

A restore replaces the data in the suite's own database: the schema and ``alembic_version``
come back from the backup, so the session-scoped schema survives, and the autouse fixture
empties the tables afterwards as usual.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.cli import backup
from app.core.extensions import db
from app.periods.models import Period
from app.reports import operations
from app.reports.models import Comment, Report
from app.reports.workflow import ReportState
from tests.conftest import IN_CI, make_report

# Real commits: backups and restores read and replace the database through their own connections and processes.
pytestmark = pytest.mark.committed


def on_postgresql() -> bool:
    return db.engine.url.get_backend_name() == "postgresql"


@pytest.fixture
def tools():
    """pg_dump and pg_restore are needed on PostgreSQL (and must be there in CI)."""
    if on_postgresql() and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        if IN_CI:
            pytest.fail("pg_dump/pg_restore are missing (install postgresql-client)")
        pytest.skip("pg_dump/pg_restore are missing")


def all_rows() -> dict[str, list[tuple]]:
    """Every row of every table in the database (alembic_version included), in key order."""
    metadata = sa.MetaData()
    metadata.reflect(db.engine)
    rows = {}
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [
                tuple(r) for r in connection.execute(table.select().order_by(*order))
            ]
    return rows


def build_data(org) -> None:
    approved = make_report(org, "a", ReportState.APPROVED)
    in_group = make_report(org, "b", ReportState.GROUP_REVIEW)
    draft = make_report(org, "c")
    operations.save_draft(
        org["author_c"], draft, draft.title, draft.body + "\n三、下一步打算", draft.lock_version
    )
    first = operations.add_comment(org["group1"], in_group, "请补充具体数据。", paragraph=2)
    operations.add_comment(org["reviewer_b"], in_group, "已补充。", parent=first)
    operations.add_comment(org["group1"], in_group, "整体结构清楚。")
    operations.resolve_comment(org["group1"], in_group, first)
    assert approved.approved_version_number == 1
    db.session.commit()


def test_backup_then_restore_brings_back_every_row(runner, org, tools, tmp_path):
    build_data(org)
    before = all_rows()
    assert before["alembic_version"] and before["history_entries"] and before["draft_revisions"]
    target = tmp_path / "reportflow.backup"

    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    assert "汇报 3 份" in result.output
    assert "版本 2 个" in result.output
    assert "意见 3 条" in result.output
    assert str(target) in result.output

    # Change, delete and add data after the backup.
    db.session.execute(sa.delete(Comment))
    db.session.execute(sa.update(Report).values(title="改过的标题"))
    later = Period(name="第二批主题教育11月份阶段性总结", due_date=date(2026, 12, 31))
    db.session.add(later)
    make_report(org, "a", period=later)
    assert all_rows() != before

    declined = runner.invoke(args=["restore", str(target)], input="n\n")
    assert declined.exit_code == 1
    assert "已取消" in declined.output
    assert all_rows()["comments"] == []

    result = runner.invoke(args=["restore", str(target)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "替换数据库" in result.output and "汇报 3 份" in result.output
    assert all_rows() == before

    # The restored database keeps working: the sequences continue after the restored keys.
    report = db.session.scalar(sa.select(Report).where(Report.state == ReportState.DRAFT))
    author = db.session.get(User, report.created_by_id)
    operations.save_draft(author, report, report.title, "新的正文。", report.lock_version)
    db.session.commit()
    assert len(all_rows()["draft_revisions"]) == len(before["draft_revisions"]) + 1


def test_restore_with_yes_does_not_ask(runner, org, tools, tmp_path):
    make_report(org, "a", ReportState.UNIT_REVIEW)
    target = tmp_path / "b"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    before = all_rows()
    db.session.execute(sa.update(Report).values(title="改过的标题"))
    db.session.commit()
    result = runner.invoke(args=["restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    assert "继续吗" not in result.output
    assert all_rows() == before


def other_kind_backup(tmp_path):
    """A file that is a backup, but of the other database kind."""
    if on_postgresql():
        path = tmp_path / "sqlite.db"
        connection = sqlite3.connect(path)
        connection.executescript("CREATE TABLE alembic_version (version_num TEXT);")
        connection.executescript("CREATE TABLE reports (id INTEGER PRIMARY KEY);")
        connection.close()
        return path, "是 SQLite 数据库的备份，当前数据库是 PostgreSQL"
    path = tmp_path / "pg.dump"
    path.write_bytes(backup.PGDUMP_MAGIC + b"\x01\x0e\x00" + b"\x00" * 100)
    return path, "是 PostgreSQL 数据库的备份，当前数据库是 SQLite"


def test_restore_refuses_files_that_are_not_backups_of_this_kind(runner, org, tools, tmp_path):
    make_report(org, "a")
    before = all_rows()
    text = tmp_path / "notes.txt"
    text.write_text("不是备份", encoding="utf-8")
    other, message = other_kind_backup(tmp_path)
    foreign_sqlite = tmp_path / "foreign.db"
    sqlite3.connect(foreign_sqlite).executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
    cases = [
        (text, "不是 ReportFlow 的备份文件"),
        (other, message),
        (tmp_path / "missing.backup", "不存在"),
    ]
    if not on_postgresql():
        cases.append((foreign_sqlite, "不是 ReportFlow 的备份"))
    for path, expected in cases:
        result = runner.invoke(args=["restore", "--yes", str(path)])
        assert result.exit_code == 1, (path, result.output)
        assert expected in result.output, (path, result.output)
    assert all_rows() == before


def test_backup_into_a_missing_directory_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "no" / "such" / "file")])
    assert result.exit_code == 1
    assert "不存在" in result.output


def test_missing_pg_dump_is_a_clear_error(monkeypatch, tmp_path):
    engine = sa.create_engine("postgresql+psycopg://rf:secret@127.0.0.1:1/reportflow")
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match=r"未找到 pg_dump.*postgresql-client"):
        backup.backup(engine, tmp_path / "x.dump")
    assert list(tmp_path.iterdir()) == []  # no half-written file left behind
    engine.dispose()


def test_connection_settings_reach_the_tools_through_the_environment(monkeypatch):
    monkeypatch.setenv("PGSERVICE", "elsewhere")
    monkeypatch.setenv("PGPASSWORD", "stale")
    url = sa.make_url(
        "postgresql+psycopg://rf:p%40ss%20word@db.example:6543/reportflow?sslmode=require"
    )
    env = backup.pg_environment(url)
    assert env["PGHOST"] == "db.example" and env["PGPORT"] == "6543"
    assert env["PGUSER"] == "rf" and env["PGPASSWORD"] == "p@ss word"
    assert env["PGDATABASE"] == "reportflow" and env["PGSSLMODE"] == "require"
    assert "PGSERVICE" not in env


@pytest.mark.postgres
def test_postgresql_password_is_never_on_the_command_line(monkeypatch, org, tools, tmp_path):
    if not on_postgresql():
        pytest.skip("the suite runs on SQLite (set TEST_DATABASE_URL for PostgreSQL)")
    calls = []
    real_run = backup.subprocess.run

    def spy(args, **kwargs):
        calls.append((args, kwargs.get("env") or {}))
        return real_run(args, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", spy)
    url = db.engine.url.set(password="only-in-env")
    engine = sa.create_engine(url)
    # The server may not check the password (trust authentication); it must not matter here.
    summary = backup.backup(engine, tmp_path / "x.dump")
    engine.dispose()
    assert summary.kind == "postgresql"
    dumps = [(args, env) for args, env in calls if "--format=custom" in args]
    assert dumps
    for args, env in dumps:
        assert not any("only-in-env" in a for a in args)
        assert env["PGPASSWORD"] == "only-in-env"


@pytest.mark.postgres
def test_older_pg_dump_than_the_server_is_refused(monkeypatch, tools, tmp_path):
    if not on_postgresql():
        pytest.skip("the suite runs on SQLite (set TEST_DATABASE_URL for PostgreSQL)")
    monkeypatch.setattr(backup, "_tool_major", lambda path: 9)
    with pytest.raises(backup.BackupError, match="pg_dump 的版本（9）低于数据库服务器"):
        backup.backup(db.engine, tmp_path / "x.dump")
