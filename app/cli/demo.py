"""Demo data for a newcomer: written for ReportFlow, in the style of real stage summaries."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.auth.models import Role, User
from app.core.extensions import db
from app.core.times import local_today, utcnow
from app.org.models import SupervisionGroup, Unit
from app.org.operations import create_user
from app.periods.models import Period
from app.reports import operations

DEFAULT_PASSWORD = "demo-pass-2026"

EDUCATION_REPORT = """县教育局党组主题教育10月份阶段性工作总结
主题教育开展以来，县教育局党组坚持把学习贯彻党的创新理论作为首要任务，紧扣“学思想、强党性、重实践、建新功”的总要求，统筹推进理论学习、调查研究、检视整改等重点工作，各项任务有序推进。现将10月份工作情况汇报如下：
一、坚持高位推动，压实工作责任
（一）健全组织体系。成立由党组书记任组长的主题教育领导小组，下设综合协调、学习培训、督导检查3个工作组，抽调12名骨干集中办公，形成了一级抓一级、层层抓落实的工作格局。
（二）细化任务清单。对照上级实施方案，制定工作推进表，明确18项具体任务的责任领导、牵头科室和完成时限，实行周调度、月通报，确保各项工作有人抓、有人管。
二、聚焦理论武装，推动学深悟透
局党组坚持领导带头、以上率下，把读书班作为深化理论学习的重要载体。一是集中研讨学。举办为期7天的读书班，围绕5个专题开展交流研讨，班子成员撰写研讨材料9篇。二是深入基层学。组织党员干部到乡村学校开展“送学上门”活动14场次，覆盖教师党员320余名。三是创新方式学。依托“学习强国”APP和线上课堂，开展“线上+线下”学习，党员参学率达到98.6%。
三、突出问题导向，务求整改实效
坚持边学边查边改，通过座谈走访、问卷调查等方式征集意见建议46条，梳理形成问题清单、责任清单、整改清单，目前已完成整改31项，其余15项正按计划推进。
下一步，我们将持续深化理论学习，扎实推进检视整改，确保主题教育取得实实在在的成效。
"""

HEALTH_REPORT = """主题教育开展以来，县卫生健康局党组认真落实县委部署要求，坚持学思用贯通、知信行统一，推动主题教育与卫生健康中心工作深度融合。现将有关情况报告如下：
一、抓学习，筑牢思想根基
局党组把理论学习贯穿主题教育全过程，制定学习计划，明确学习篇目和进度安排。一是领导干部带头学，党组理论学习中心组开展专题学习6次；二是支部书记领着学，各基层党支部组织集中学习42次；三是党员干部自觉学，发放学习书目1200余册。
二、抓调研，掌握真实情况
（一）科学确定调研课题。围绕群众看病就医的急难愁盼问题，确定基层医疗服务能力提升等8个调研课题，由班子成员牵头领题调研。
（二）深入开展实地调研。班子成员深入乡镇卫生院、村卫生室开展调研27次，召开座谈会11场，形成调研报告8篇，提出对策建议23条。
三、抓整改，回应群众期盼
针对调研发现的问题，建立整改台账，实行销号管理。目前已推动解决基层医疗设备短缺、预约挂号不便等问题19个，群众满意度明显提升。
"""

TRANSPORT_REPORT = """县交通运输局主题教育阶段性工作情况汇报
按照县委统一部署，县交通运输局扎实开展主题教育，坚持以学铸魂、以学增智、以学正风、以学促干，推动主题教育各项工作落地见效。
一、强化组织保障
局党组第一时间召开动员部署会，制定实施方案，成立工作专班，将主题教育与“四好农村路”建设、交通安全隐患排查等重点工作同部署、同推进。
二、推动学习走深走实
通过专题读书班、支部“三会一课”、“交通大讲堂”等形式，组织集中学习28场次，开展研讨交流9次，推动党员干部学思践悟。
三、聚焦实事办好民生
围绕群众出行难题，完成农村公路提档升级36公里，新开通城乡公交线路3条，解决群众急难愁盼问题12件。
"""

TOWN_REPORT = """9月份以来，城关镇党委在县委主题教育第一指导组的指导下，坚持把主题教育同乡村振兴、基层治理等重点工作结合起来，统筹推进理论学习、调查研究和检视整改，取得了阶段性成效。现将有关情况汇报如下：
一、坚持读原著学原文，理论学习不断深化
镇党委坚持领导带头、以上率下，推动理论学习往深里走、往实里走。一是集中学习抓示范，镇党委理论学习中心组开展集体学习5次、专题研讨3次；二是分类学习抓覆盖，依托“三会一课”组织全镇27个基层党组织集中学习81场次；三是送学上门抓延伸，为年老体弱和流动党员送学上门136人次。
二、坚持沉下去摸实情，调查研究扎实开展
（一）聚焦难题定课题。围绕农村人居环境整治、集镇停车难等群众反映集中的问题，确定调研课题6个，班子成员每人领办1个。
（二）走村入户找症结。班子成员深入村组、企业、农户开展调研42次，召开群众座谈会9场，收集意见建议58条。
三、坚持边学边查边改，为民办事落地见效
对照群众反映的问题建立整改台账，明确责任人和完成时限。截至9月底，已完成集镇农贸市场改造、新增公共停车泊位120个等实事14件，其余8件正在推进。
下一步，镇党委将持续巩固拓展学习成果，推动调研成果转化运用，以主题教育成效推动全镇各项工作再上新台阶。
"""

EDUCATION_RESEARCH = """根据县委主题教育领导小组关于开展调研成果交流的安排，县教育局党组对前一阶段调查研究情况进行了梳理总结，现将有关情况报告如下：
一、调研课题的确定
局党组围绕“双减”政策落实、农村学校师资配备、学生课后服务等群众关心的问题，确定重点调研课题5个，班子成员牵头组建调研组，制定调研方案，明确调研时间表和路线图。
二、调研工作开展情况
各调研组采取“四不两直”方式，深入城乡中小学、幼儿园35所，与校长、教师、家长座谈交流260余人次，发放调查问卷1800份，回收有效问卷1736份。
三、主要发现和对策建议
（一）农村学校教师结构性缺编问题突出。音体美等学科专任教师不足，部分学校存在一人多科、跨校走教现象，建议通过县域内统筹调配、定向招聘等方式逐步补齐。
（二）课后服务内容需进一步丰富。一是引入校外优质资源，二是鼓励教师开发特色课程，三是探索建立课后服务经费保障机制。
四、成果转化运用情况
目前已出台加强农村学校教师队伍建设的若干措施，调配补充音体美教师21名，课后服务覆盖率由82%提高到96%。
"""

TRANSPORT_RESEARCH = """县交通运输局党组紧扣“四好农村路”建设和群众安全出行需求开展调查研究，现将调研成果交流情况报告如下：
一、调研基本情况
班子成员分别带队，深入12个乡镇、46个行政村和3家客运企业开展实地调研，召开座谈会8场，走访群众和驾驶员310余人，形成调研报告4篇。
二、发现的主要问题
一是部分农村公路路面窄、错车难，临水临崖路段防护设施不足；二是城乡公交线路覆盖不均衡，偏远村组群众出行仍不方便；三是农村公路管护资金保障不够稳定。
三、下一步打算
围绕调研发现的问题，局党组已制定整改措施15条，计划年内完成危险路段安全防护设施建设28公里，新增城乡公交停靠站点20个，切实把调研成果转化为为民办实事的具体举措。
"""

# Still being written: a placeholder not yet filled in and an empty heading, as real drafts have.
HEALTH_RESEARCH_DRAFT = """县卫生健康局党组调查研究成果交流情况报告
按照县委部署，局党组围绕基层医疗服务能力提升确定调研课题X个，
一、
"""


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def seed_demo(password: str = DEFAULT_PASSWORD) -> bool:
    """Create the demo organisation and reports; returns False when they already exist."""
    if db.session.scalar(sa.select(User.id).where(User.username == "admin")) is not None:
        return False

    group1 = SupervisionGroup(name="第一指导组")
    group2 = SupervisionGroup(name="第二指导组")
    towns = Unit(name="城关镇党委", group=group1, sort_order=1)
    health = Unit(name="县卫生健康局党组", group=group1, sort_order=2)
    education = Unit(name="县教育局党组", group=group2, sort_order=3)
    transport = Unit(name="县交通运输局党组", group=group2, sort_order=4)
    db.session.add_all([group1, group2, towns, health, education, transport])
    september = Period(name="第二批主题教育9月份阶段性总结", due_date=date(2026, 10, 8))
    # Due dates relative to the day the demo is seeded, so that the period dashboard always
    # has something to show: October due in two days (即将到期), the research period three
    # days ago (逾期) and closed below, so that no unit can start a report for it any more.
    october = Period(
        name="第二批主题教育10月份阶段性总结", due_date=local_today() + timedelta(days=2)
    )
    research = Period(
        name="第二批主题教育调查研究成果交流情况", due_date=local_today() - timedelta(days=3)
    )
    db.session.add_all([september, october, research])
    db.session.flush()

    accounts = [
        ("author1", "张晓明", Role.AUTHOR, towns, None),
        ("reviewer1", "李建国", Role.UNIT_REVIEWER, towns, None),
        ("author2", "王丽华", Role.AUTHOR, education, None),
        ("reviewer2", "赵志强", Role.UNIT_REVIEWER, education, None),
        ("author3", "陈静", Role.AUTHOR, health, None),
        ("reviewer3", "刘洋", Role.UNIT_REVIEWER, health, None),
        ("author4", "孙伟", Role.AUTHOR, transport, None),
        ("reviewer4", "周敏", Role.UNIT_REVIEWER, transport, None),
        ("group1", "吴国栋", Role.GROUP_MEMBER, None, group1),
        ("group2", "郑秀兰", Role.GROUP_MEMBER, None, group2),
        ("secretary", "冯雪", Role.SECRETARY, None, None),
        ("admin", "系统管理员", Role.ADMIN, None, None),
    ]
    for username, name, role, unit, group in accounts:
        create_user(None, username, password, role, display_name=name, unit=unit, group=group)

    def advance(report, steps):
        for username, event, comment in steps:
            operations.trigger_event(
                _user(username), report, event, comment=comment, lock_version=report.lock_version
            )

    # Last month's report of the town, approved after one return.
    towns_september = operations.create_report(
        _user("author1"),
        september,
        "城关镇党委主题教育9月份阶段性总结",
        TOWN_REPORT,
    )
    advance(towns_september, [("author1", "submit", ""), ("reviewer1", "forward", "")])
    advance(towns_september, [("group1", "approve", "")])

    education_report = operations.create_report(
        _user("author2"),
        october,
        "县教育局党组主题教育10月份阶段性工作总结",
        EDUCATION_REPORT,
    )
    advance(education_report, [("author2", "submit", ""), ("reviewer2", "forward", "")])

    health_report = operations.create_report(
        _user("author3"),
        october,
        "县卫生健康局党组主题教育10月份阶段性总结",
        HEALTH_REPORT.replace("群众满意度明显提升。", "群众满意度明显提升"),
    )
    advance(
        health_report,
        [
            ("author3", "submit", ""),
            (
                "reviewer3",
                "return_to_author",
                "第三部分最后一句缺少句号，请补充整改成效的具体数据。",
            ),
        ],
    )
    operations.save_draft(
        _user("author3"),
        health_report,
        health_report.title,
        HEALTH_REPORT,
        health_report.lock_version,
    )
    advance(
        health_report,
        [
            ("author3", "submit", ""),
            ("reviewer3", "forward", ""),
            ("group1", "approve", ""),
        ],
    )

    transport_report = operations.create_report(
        _user("author4"), october, "县交通运输局主题教育阶段性工作情况汇报", TRANSPORT_REPORT
    )
    advance(transport_report, [("author4", "submit", "")])
    # The research period: one unit approved, one with its group, one still drafting (reports
    # already started go on after a period is closed), and the town not started at all.
    education_research = operations.create_report(
        _user("author2"), research, "县教育局党组调查研究成果交流情况报告", EDUCATION_RESEARCH
    )
    advance(
        education_research,
        [("author2", "submit", ""), ("reviewer2", "forward", ""), ("group2", "approve", "")],
    )
    transport_research = operations.create_report(
        _user("author4"), research, "县交通运输局调查研究成果交流情况报告", TRANSPORT_RESEARCH
    )
    advance(transport_research, [("author4", "submit", ""), ("reviewer4", "forward", "")])
    operations.create_report(
        _user("author3"),
        research,
        "县卫生健康局党组调查研究成果交流情况报告",
        HEALTH_RESEARCH_DRAFT,
    )
    september.closed_at = research.closed_at = utcnow()
    db.session.flush()
    return True


def demo_accounts() -> list[User]:
    """Every account of the demo, in the order they were made (all of them are printed)."""
    return list(db.session.scalars(sa.select(User).order_by(User.id)))
