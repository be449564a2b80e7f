import threading

import sqlalchemy as sa

from app.auth.models import Role, User
from app.core.extensions import db
from app.reports.models import Report
from app.reports.workflow import ReportState


def test_seed_demo_creates_the_documented_organisation_and_is_idempotent(runner):
    result = runner.invoke(args=["seed-demo", "--password", "pass-word-1"])
    assert result.exit_code == 0, result.output
    for username in (
        "author1",
        "reviewer1",
        "author2",
        "reviewer2",
        "group1",
        "group2",
        "secretary",
        "admin",
    ):
        assert username in result.output
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None and user.check_password("pass-word-1")
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    # Every demo account is printed, with its role and scope.
    for user in users.values():
        assert f"  {user.username:<10} 密码 pass-word-1  {user.role.label}" in result.output
    assert "author4    密码 pass-word-1  撰稿人 · 县交通运输局党组（孙伟）" in result.output
    assert users["author1"].unit.group.name == "第一指导组"
    assert users["author2"].unit.group.name == "第二指导组"
    assert users["group1"].group.name == "第一指导组"
    assert users["reviewer1"].role is Role.UNIT_REVIEWER
    reports = db.session.scalars(sa.select(Report)).all()
    states = {r.state for r in reports}
    assert {ReportState.UNIT_REVIEW, ReportState.GROUP_REVIEW, ReportState.APPROVED} <= states
    open_reports_of_author1 = [
        r for r in reports if r.unit_id == users["author1"].unit_id and r.period.is_open
    ]
    assert open_reports_of_author1 == []  # a newcomer can start one
    for report in reports:
        assert report.history[-1].to_state is report.state

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "已存在" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == len(users)


def test_create_user(runner, org):
    result = runner.invoke(
        args=[
            "create-user",
            "newauthor",
            "--role",
            "author",
            "--unit",
            "甲单位",
            "--password",
            "long-enough-1",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "newauthor"))
    assert user.unit.name == "甲单位" and user.check_password("long-enough-1")


def test_create_user_refuses_bad_input_in_chinese(runner, org):
    cases = [
        (
            ["create-user", "x1", "--role", "author", "--password", "long-enough-1"],
            "必须属于一个单位",
        ),
        (
            [
                "create-user",
                "x2",
                "--role",
                "author",
                "--unit",
                "无此单位",
                "--password",
                "long-enough-1",
            ],
            "不存在",
        ),
        (["create-user", "x3", "--role", "secretary", "--password", "short"], "至少需要"),
        (
            ["create-user", "author_a", "--role", "secretary", "--password", "long-enough-1"],
            "已被使用",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        assert message in result.output, result.output
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.username.like("x%"))
        )
        == 0
    )


def test_create_user_prompts_for_the_password(runner, org):
    result = runner.invoke(
        args=["create-user", "prompted", "--role", "admin"], input="long-enough-1\nlong-enough-1\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User).where(User.username == "prompted")).check_password(
        "long-enough-1"
    )


def test_check_command_text_output_and_exit_status(runner, tmp_path):
    clean = tmp_path / "clean.txt"
    clean.write_text("一、工作情况\n全区开展学习。\n", encoding="utf-8")
    result = runner.invoke(args=["check", str(clean)])
    assert result.exit_code == 0, result.output
    assert "0 处错误，0 处提醒" in result.output

    bad = tmp_path / "bad.txt"
    bad.write_text("第一段。\n\n全区*个党组织开展学习,推进整改。\n", encoding="gb18030")
    result = runner.invoke(args=["check", str(bad)])
    assert result.exit_code == 1
    # Line numbers are those of the file, blank lines included.
    assert f"{bad}:3:3: 错误[placeholder]" in result.output
    assert f"{bad}:3:12: 提醒[punctuation]" in result.output


def test_check_command_json_output(runner, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("全区*个党组织。", encoding="utf-8-sig")
    ok = tmp_path / "ok.txt"
    ok.write_text("全区开展学习。", encoding="utf-8")
    result = runner.invoke(args=["check", "--format", "json", str(bad), str(ok)])
    assert result.exit_code == 1
    import json

    findings = json.loads(result.output)
    assert findings == [
        {
            "file": str(bad),
            "line": 1,
            "column": 3,
            "rule": "placeholder",
            "severity": "error",
            "excerpt": "全区*个党组织。",
            "message": "“*”像是没有填写的占位符，请填入实际的数字或名称。",
            "length": 1,
            "suggestion": "",
        }
    ]


def test_check_command_unreadable_files_exit_2(runner, tmp_path):
    legacy = tmp_path / "old.doc"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    result = runner.invoke(args=["check", str(legacy), str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert "另存为 .docx 或 .txt" in result.output
    assert "无法读取该文件" in result.output


def test_check_command_reads_docx(runner, tmp_path):
    from docx import Document

    document = Document()
    document.add_paragraph("一、工作情况")
    document.add_paragraph("共收集问题X个。")
    path = tmp_path / "report.docx"
    document.save(path)
    result = runner.invoke(args=["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2:6: 错误[placeholder]" in result.output


def test_commands_push_their_own_app_context(web_app):
    """Run as `flask` runs them: in a thread with no app context pushed by anyone."""
    results = []
    thread = threading.Thread(
        target=lambda: results.append(
            web_app.test_cli_runner().invoke(args=["seed-demo", "--password", "pass-word-1"])
        )
    )
    thread.start()
    thread.join()
    assert results[0].exit_code == 0, results[0].output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) > 0
