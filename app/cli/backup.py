"""Online backup and restore of the whole database (``flask backup`` / ``flask restore``).

SQLite is copied with SQLite's backup API, which gives a consistent snapshot even while the
app writes. PostgreSQL is dumped with ``pg_dump --format=custom`` from an exported snapshot,
so the counts printed are those of the dump, and restored with ``pg_restore --clean`` in one
transaction: a failed restore changes nothing. Passwords reach the client tools through
``PGPASSWORD``, never the command line (which every user of the host can read in ``ps``).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
KIND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# What the summary counts, in the order it prints them.
COUNTED = (("reports", "汇报", "份"), ("report_versions", "版本", "个"), ("comments", "意见", "条"))
# A restore waits this long for running transactions of the app to finish, then gives up.
RESTORE_LOCK_TIMEOUT = "30s"
# libpq settings in the environment that could point the tools at another database.
_PG_TARGET_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD")
_PG_TARGET_VARIABLES += ("PGSERVICE", "PGOPTIONS")
# URL query parameters passed on to libpq (as environment variables).
_PG_QUERY_VARIABLES = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "host": "PGHOST",
    "port": "PGPORT",
}


class BackupError(Exception):
    """A backup or restore that cannot be done; ``message`` is for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Summary:
    """What a backup file holds, or what the database holds after a restore."""

    path: Path
    kind: str
    size: int
    counts: dict[str, int] = field(default_factory=dict)
    revision: str | None = None

    def describe(self) -> str:
        parts = [f"{label} {self.counts.get(table, 0)} {unit}" for table, label, unit in COUNTED]
        revision = f"，数据库结构版本 {self.revision}" if self.revision else ""
        return (
            f"{self.path}（{human_size(self.size)}，{KIND_LABELS[self.kind]}）："
            f"{'，'.join(parts)}{revision}。"
        )


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def database_kind(engine: sa.Engine) -> str:
    name = engine.url.get_backend_name()
    if name not in KIND_LABELS:
        raise BackupError(f"不支持备份 {name} 数据库，只支持 SQLite 和 PostgreSQL。")
    return name


def file_kind(path: Path) -> str | None:
    """``sqlite`` or ``postgresql`` by the file's signature, or None for anything else."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"无法读取备份文件 {path}：{error.strerror or error}。") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    return None


def backup(engine: sa.Engine, out: Path) -> Summary:
    """Write a consistent copy of the database behind ``engine`` to ``out``.

    The copy is written next to ``out`` and renamed at the end, so an interrupted backup never
    leaves a truncated file under the expected name.
    """
    kind = database_kind(engine)
    out = Path(out)
    if out.is_dir():
        raise BackupError(f"{out} 是一个目录，请给出备份文件的名字。")
    if not out.parent.is_dir():
        raise BackupError(f"目录 {out.parent} 不存在。")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if kind == "sqlite":
            counts, revision = _backup_sqlite(engine, tmp)
        else:
            counts, revision = _backup_postgresql(engine, tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return Summary(out, kind, out.stat().st_size, counts, revision)


def check_restorable(engine: sa.Engine, source: Path) -> str:
    """Refuse a file that is not a ReportFlow backup of this database's kind; returns the kind."""
    kind = database_kind(engine)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"备份文件 {source} 不存在。")
    found = file_kind(source)
    if found is None:
        raise BackupError(f"{source} 不是 ReportFlow 的备份文件（SQLite 数据库或 pg_dump 归档）。")
    if found != kind:
        raise BackupError(
            f"{source} 是 {KIND_LABELS[found]} 数据库的备份，当前数据库是 {KIND_LABELS[kind]}，"
            "不能用它恢复。"
        )
    if kind == "sqlite":
        _check_sqlite_backup(source)
    else:
        _check_postgresql_backup(source)
    return kind


def restore(engine: sa.Engine, source: Path) -> Summary:
    """Replace every table of the database behind ``engine`` with the backup's contents.

    The caller must have released its connections (``db.session.remove()``); the engine's
    pool is emptied before and after, so that no connection keeps a view of the old data.
    """
    kind = check_restorable(engine, source)
    engine.dispose()
    if kind == "sqlite":
        _restore_sqlite(engine, Path(source))
    else:
        _restore_postgresql(engine, Path(source))
    engine.dispose()
    with engine.connect() as connection:
        counts = _counts(connection)
        revision = _revision(connection)
    return Summary(Path(source), kind, Path(source).stat().st_size, counts, revision)


def _counts(connection) -> dict[str, int]:
    """Rows per counted table; works on a SQLAlchemy or a sqlite3 connection."""
    counts = {}
    for table, _, _ in COUNTED:
        sql = f"SELECT count(*) FROM {table}"  # table names are our constants
        if isinstance(connection, sqlite3.Connection):
            counts[table] = connection.execute(sql).fetchone()[0]
        else:
            counts[table] = connection.execute(sa.text(sql)).scalar_one()
    return counts


def _revision(connection) -> str | None:
    sql = "SELECT version_num FROM alembic_version"
    try:
        if isinstance(connection, sqlite3.Connection):
            row = connection.execute(sql).fetchone()
            return row[0] if row else None
        return connection.execute(sa.text(sql)).scalar_one_or_none()
    except (sqlite3.Error, sa.exc.DBAPIError):
        return None


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_path(engine: sa.Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复。")
    return Path(database)


def _backup_sqlite(engine: sa.Engine, target: Path) -> tuple[dict[str, int], str | None]:
    path = _sqlite_path(engine)
    if not path.is_file():
        raise BackupError(f"数据库文件 {path} 不存在。")
    # Read-only: a mistyped path must not create an empty database.
    source = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    destination = sqlite3.connect(target)
    try:
        # One step (pages=-1) copies everything under one read lock: a consistent snapshot
        # that writers wait for (they retry for their busy timeout) instead of restarting it.
        source.backup(destination)
        counts = _counts(destination)
        revision = _revision(destination)
    except sqlite3.Error as error:
        raise BackupError(f"备份 SQLite 数据库失败：{error}") from None
    finally:
        destination.close()
        source.close()
    return counts, revision


def _check_sqlite_backup(source: Path) -> None:
    connection = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        result = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error:
        raise BackupError(f"{source} 已损坏，不能用于恢复。") from None
    finally:
        connection.close()
    if not {"alembic_version", "reports"} <= tables:
        raise BackupError(f"{source} 是 SQLite 数据库，但不是 ReportFlow 的备份。")
    if result != "ok":
        raise BackupError(f"{source} 已损坏（{result}），不能用于恢复。")


def _restore_sqlite(engine: sa.Engine, source: Path) -> None:
    path = _sqlite_path(engine)
    backup_file = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    database = sqlite3.connect(path, timeout=30)
    try:
        # The backup API replaces the whole database file in one transaction.
        backup_file.backup(database)
    except sqlite3.Error as error:
        raise BackupError(f"恢复 SQLite 数据库失败：{error}") from None
    finally:
        database.close()
        backup_file.close()


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_environment(url: sa.URL) -> dict[str, str]:
    """The environment for pg_dump/pg_restore: the URL's target as libpq variables.

    Everything, password included, goes through the environment, so nothing about the
    database appears in the tools' argument lists.
    """
    env = {k: v for k, v in os.environ.items() if k not in _PG_TARGET_VARIABLES}
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = url.password
    if url.database:
        env["PGDATABASE"] = url.database
    for name, variable in _PG_QUERY_VARIABLES.items():
        value = url.query.get(name)
        if isinstance(value, tuple):
            value = value[0] if value else None
        if value:
            env[variable] = str(value)
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"未找到 {name}。请安装 PostgreSQL 客户端工具（Debian/Ubuntu：apt install "
            "postgresql-client），其版本不能低于数据库服务器的版本。"
        )
    return path


def _tool_major(path: str) -> int | None:
    try:
        output = subprocess.run(
            [path, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", output)
    return int(match.group(1)) if match else None


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True)
    except OSError as error:
        raise BackupError(f"无法运行 {args[0]}：{error.strerror or error}。") from None
    if result.returncode != 0:
        detail = result.stderr.strip() or f"退出码 {result.returncode}"
        if "version mismatch" in detail or "unsupported version" in detail:
            raise BackupError(
                f"{what}失败：{Path(args[0]).name} 的版本与数据库服务器或备份文件不匹配，"
                f"请安装与服务器同一主版本或更新的 PostgreSQL 客户端。\n{detail}"
            )
        raise BackupError(f"{what}失败：\n{detail}")


def _backup_postgresql(engine: sa.Engine, target: Path) -> tuple[dict[str, int], str | None]:
    pg_dump = _tool("pg_dump")
    with engine.connect() as connection:
        server_major = connection.execute(sa.text("SHOW server_version_num")).scalar_one()
        server_major = int(server_major) // 10000
        connection.rollback()
        tool_major = _tool_major(pg_dump)
        if tool_major is not None and tool_major < server_major:
            raise BackupError(
                f"pg_dump 的版本（{tool_major}）低于数据库服务器（{server_major}），无法备份。"
                f"请安装 postgresql-client-{server_major} 或更新的版本。"
            )
        # Count in the snapshot that pg_dump then dumps: the summary matches the file exactly.
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            counts = _counts(connection)
            revision = _revision(connection)
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
                pg_environment(engine.url),
                "备份",
            )
    return counts, revision


def _pg_restore_listing(source: Path) -> str:
    pg_restore = _tool("pg_restore")
    result = subprocess.run(
        [pg_restore, "--list", str(source)], capture_output=True, text=True, env=os.environ
    )
    if result.returncode != 0:
        detail = result.stderr.strip()
        if "unsupported version" in detail:
            raise BackupError(
                f"pg_restore 的版本低于制作备份的 pg_dump，无法读取 {source}。"
                f"请安装更新的 PostgreSQL 客户端。\n{detail}"
            )
        raise BackupError(f"{source} 无法读取，可能已损坏：\n{detail}")
    return result.stdout


def _check_postgresql_backup(source: Path) -> None:
    listing = _pg_restore_listing(source)
    tables = set(re.findall(r"\bTABLE DATA \S+ (\S+)", listing))
    if not {"alembic_version", "reports"} <= tables:
        raise BackupError(f"{source} 是 PostgreSQL 备份，但不是 ReportFlow 的备份。")


def _restore_postgresql(engine: sa.Engine, source: Path) -> None:
    pg_restore = _tool("pg_restore")
    env = pg_environment(engine.url)
    # Wait a while for the app's running transactions, then fail instead of queueing forever;
    # in one transaction, a failure (or Ctrl-C) leaves the database as it was.
    env["PGOPTIONS"] = f"-c lock_timeout={RESTORE_LOCK_TIMEOUT}"
    database = engine.url.database or ""
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            # The database name as a connection string, so that no name is read as an option.
            f"--dbname=dbname='{_libpq_quote(database)}'",
            str(source),
        ],
        env,
        "恢复",
    )


def _libpq_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
