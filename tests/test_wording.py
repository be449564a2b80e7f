"""The wording rule: wrong characters, transposed words, misquoted fixed expressions.

Precision before recall: besides finding each kind of typo, it must stay quiet on correct
official prose that comes close to every rule (的 before a noun, 制度 as a noun, 聚集 of people…).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.documents.checks import check, check_shown, errors_in
from app.documents.lexicon import lexicon, sound_alike
from app.documents.phrasebook import (
    DATA_FILE,
    Entry,
    PhraseBookError,
    current_book,
    default_book,
    load_book,
)
from app.documents.wording import MAX_HITS, find_wording
from tests.samples import SAMPLES_DIR

TYPOS = SAMPLES_DIR / "typos.json"


def wording(text: str, book=None):
    return [f for f in check(text, book) if f.rule == "wording"]


def wrong_text(text: str, finding) -> str:
    line = text.split("\n")[finding.line - 1]
    return line[finding.column - 1 : finding.column - 1 + finding.length]


def applied(text: str, finding) -> str:
    lines = text.split("\n")
    line = lines[finding.line - 1]
    start = finding.column - 1
    lines[finding.line - 1] = line[:start] + finding.suggestion + line[start + finding.length :]
    return "\n".join(lines)


# --- the samples and what a proofreader found in them ---------------------------------------


@pytest.mark.skipif(not TYPOS.is_file(), reason="../shared/samples is not present")
@pytest.mark.parametrize(
    ("name", "typo"),
    [
        (name, typo)
        for name, typos in (json.loads(TYPOS.read_text("utf-8")) if TYPOS.is_file() else {}).items()
        for typo in typos
        if typo["confidence"] == "high"
    ],
    ids=lambda value: value["wrong"] if isinstance(value, dict) else value[:3],
)
def test_proofreaders_high_confidence_typos_are_found_on_their_line(name, typo):
    text = (SAMPLES_DIR / name).read_text(encoding="utf-8")
    line = text.split("\n")[typo["line"] - 1]
    position = line.index(typo["wrong"])
    found = [
        f
        for f in wording(text)
        if f.line == typo["line"]
        and f.column - 1 < position + len(typo["wrong"])
        and position < f.column - 1 + f.length
    ]
    assert found, typo
    # Applying the suggestion writes what the proofreader wrote.
    assert typo["right"] in applied(text, found[0]).split("\n")[typo["line"] - 1]


@pytest.mark.skipif(not (SAMPLES_DIR / "fixed").is_dir(), reason="../shared/samples is absent")
@pytest.mark.parametrize(
    "path",
    sorted((SAMPLES_DIR / "fixed").glob("*.txt")) if (SAMPLES_DIR / "fixed").is_dir() else [],
    ids=lambda p: p.name[:3],
)
def test_corrected_samples_give_no_wording_finding(path):
    assert wording(path.read_text(encoding="utf-8")) == []


# --- each kind of typo ----------------------------------------------------------------------

FOUND = [
    # misquoted fixed expressions (规范表述)
    (
        "紧紧围绕“学思想、强党性、重实践、见新功”的总要求开展工作。",
        "学思想、强党性、重实践、见新功",
        "学思想、强党性、重实践、建新功",
    ),
    (
        "深入学习贯彻习近平新时代中国特色社会义思想。",
        "习近平新时代中国特色社会义思想",
        "习近平新时代中国特色社会主义思想",
    ),
    (
        "深入学习贯彻习近平新时代特色社会主义思想。",
        "习近平新时代特色社会主义思想",
        "习近平新时代中国特色社会主义思想",
    ),
    (
        "始终同以习近平总书记为核心的党中央保持高度一致。",
        "以习近平总书记为核心的党中央",
        "以习近平同志为核心的党中央",
    ),
    (
        "持续深化民族团结进步创建，筑牢中华民族共同体意识。",
        "筑牢中华民族共同体意识",
        "铸牢中华民族共同体意识",
    ),
    ("推动构建人类命运共通体。", "人类命运共通体", "人类命运共同体"),
    # the parts of a formulation in the wrong order
    (
        "引导党员坚定道路自信、理论自信、文化自信、制度自信。",
        "道路自信、理论自信、文化自信、制度自信",
        "道路自信、理论自信、制度自信、文化自信",
    ),
    (
        "不断增强政治意识、核心意识、大局意识、看齐意识。",
        "政治意识、核心意识、大局意识、看齐意识",
        "政治意识、大局意识、核心意识、看齐意识",
    ),
    # a set phrase with a character by sound or by shape, or two swapped
    ("我们将再接再励，推动工作再上新台阶。", "再接再励", "再接再厉"),
    ("发扬真抓实于的作风。", "真抓实于", "真抓实干"),
    ("弛而不息纠治“四风”。", "弛而不息", "驰而不息"),
    ("推动党员干部融汇贯通。", "融汇贯通", "融会贯通"),
    ("切实做到学以至用。", "学以至用", "学以致用"),
    ("工作中按步就班，缺乏创新。", "按步就班", "按部就班"),
    ("整治工作迫在眉捷。", "迫在眉捷", "迫在眉睫"),
    ("一些干部默守成规，不思进取。", "默守成规", "墨守成规"),
    ("各级领导干部要以身作责。", "以身作责", "以身作则"),
    ("党员干部要严于律已。", "严于律已", "严于律己"),
    ("坚持事实求是，一切从实际出发。", "事实求是", "实事求是"),
    ("要坚持不泄抓好整改。", "坚持不泄", "坚持不懈"),
    # a common word by sound, by shape, or swapped
    ("充分发辉党组织战斗堡垒作用。", "发辉", "发挥"),
    ("班子成员带头开展研调，形成报告12篇。", "研调", "调研"),
    ("推进措失不够有力。", "措失", "措施"),
    ("把学习成果运用到推动发展的具体实践中，建立长效几制。", "几制", "机制"),
    # known confusions, in their contexts
    ("对全县防汛工作做出具体部署。", "做出", "作出"),
    ("做好群众工作，必需坚持以人民为中心。", "必需", "必须"),
    ("目前已制度整改措施56条。", "制度", "制定"),
    ("聚集整治任务十类问题。", "聚集", "聚焦"),
    ("截止目前，共排查隐患187处。", "截止", "截至"),
    ("针对群众反应的问题逐一整改。", "反应", "反映"),
    ("建立问题整改台帐，实行销号管理。", "台帐", "台账"),
    ("县委对此高度重视，专门作了布署。", "布署", "部署"),
    ("做为一名党员，要时刻牢记宗旨。", "做为", "作为"),
    ("项目于6月底全面峻工。", "峻工", "竣工"),
    ("党员干部要坚决做到“两个确立”。", "做到“两个确立”", "拥护“两个确立”"),
    ("不断坚定“四个意识”。", "坚定“四个意识”", "增强“四个意识”"),
    ("认真学习习总书记重要讲话精神。", "习总书记", "习近平总书记"),
    ("全县主题教育取的了明显成效。", "取的", "取得"),
    # 的 / 得 / 地
    ("开展学习教育抓的比较紧，但调查研究跟进不够。", "抓的比较紧", "抓得比较紧"),
    ("一些单位对上级部署落实的不够到位，存在等靠要思想。", "落实的不够到位", "落实得不够到位"),
    ("个别单位整改工作做的不细。", "做的不细", "做得不细"),
    ("各乡镇认真的开展了“回头看”工作。", "认真的", "认真地"),
    ("我们要积极的向先进单位学习。", "积极的", "积极地"),
    ("要牢牢的把握正确方向。", "牢牢的", "牢牢地"),
    ("工业园区不断的优化营商环境。", "不断的", "不断地"),
    # 即……又
    ("乡镇党委即要抓好当前工作，又要谋划长远发展。", "即", "既"),
    # an item of a parallel list without the 在 or 上 of its siblings
    (
        "一是在学习深度上还有差距。二是在调查研究还不够深入，一些报告停留在面上。三是在成果转化上还不够明显。",
        "在调查研究还",
        "在调查研究上还",
    ),
    (
        "一是在理论武装上持续用力。二是调查研究上持续用力。三是在整改落实上持续用力。",
        "调查研究上",
        "在调查研究上",
    ),
]


@pytest.mark.parametrize(("text", "wrong", "right"), FOUND, ids=[w for _, w, _ in FOUND])
def test_typo_is_found_with_its_suggestion(text, wrong, right):
    findings = wording(text)
    assert len(findings) == 1, [f.message for f in findings]
    finding = findings[0]
    assert wrong_text(text, finding) == wrong
    assert finding.suggestion == right
    assert finding.severity == "warning"
    assert f"“{right}" in finding.message or right in finding.message
    # The suggestion applied, the text is clean.
    assert wording(applied(text, finding)) == []


CLEAN = [
    "今年以来，县委坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，统筹推进稳增长、促改革、调结构、惠民生、防风险、保稳定各项工作。",
    "我们始终坚定拥护“两个确立”、坚决做到“两个维护”，不断增强“四个意识”、坚定“四个自信”。",
    "主题教育开展以来，局党组紧扣“学思想、强党性、重实践、建新功”的总要求，以学铸魂、以学增智、以学正风、以学促干。",
    "通过学习，大家深刻认识到中华民族伟大复兴的战略全局和世界百年未有之大变局，进一步坚定了道路自信、理论自信、制度自信、文化自信。",
    "全面贯彻新发展理念，坚持创新、协调、绿色、开放、共享的发展方向，推动经济社会高质量发展。",
    "工作中仍存在一些不足：学习的深度还不够，调研的成果转化还不充分，整改的质量有待提高。",
    "一些党员干部对存在的不足认识不深，对取得的成绩估计过高。",
    "个别单位工作做得比较扎实，但也有单位落实得不够到位，措施不够有力。",
    "目的很明确，就是要把问题解决在基层、化解在萌芽状态。",
    "有的单位抓得紧、抓得实，有的单位还存在等靠要思想。",
    "这是非常必要的，也是十分紧迫的。",
    "群众最关心的、最直接的、最现实的利益问题，我们要一件一件抓好落实。",
    "我们要以科学的态度、务实的作风、扎实的举措推进各项工作。",
    "经过不断的努力，全县营商环境明显改善，市场主体活力持续增强。",
    "要对发展形势有科学的把握，制定有效的对策，发挥积极的作用。",
    "全年共开展深入的调查研究48次，形成高质量调研报告16篇。",
    "建立健全制度，完善制度措施，推动制度建设与工作落实相互促进。",
    "制度出台后，各单位认真抓好学习宣传，确保制度落地见效。",
    "针对人员聚集场所的安全隐患，开展专项整治行动，消除隐患37处。",
    "产业聚集区新引进企业12家，产业聚集效应逐步显现。",
    "政策出台后市场反应积极，企业普遍表示受益明显。",
    "对群众反映的问题，我们逐一登记、限时办结、及时反馈。",
    "请各单位于本月20日前报送材料，截止日期为11月30日。",
    "截至目前，全县已完成投资46.5亿元，占年度计划的85%。",
    "截止到今年9月底，累计培训基层干部1200人次。",
    "县委作出部署后，各乡镇迅速行动，做出了显著成绩。",
    "党员干部要在急难险重任务中做出表率、做出榜样。",
    "为受灾群众发放生活必需品和防疫物资，保障群众基本生活。",
    "各单位要认真落实岗位职责，积极主动地做好服务工作。",
    "要牢牢把握工作主动权，稳扎稳打推进各项任务。",
    "既要抓好当前工作，又要谋划长远发展。",
    "对巡察反馈的问题，立即组织整改，即知即改、立行立改。",
    "第二批主题教育即将开始，要提前做好各项准备。",
    "一是在理论学习上下功夫，二是在调查研究中找差距，三是在整改落实方面见成效。",
    "一是加强组织领导。二是在调查研究上下功夫。三是在整改落实上见成效。",
    "一是工作推动整体进展不够平衡。二是破解工学矛盾还缺乏有效手段。三是加强自身学习精准指导上还有差距。",
    "严格落实中央八项规定精神，持续纠治形式主义、官僚主义，坚决反对享乐主义和奢靡之风。",
    "坚持“三会一课”制度，规范开展主题党日活动，推动党支部标准化规范化建设。",
    "各级党组织书记切实履行第一责任人职责，做到重要工作亲自部署、重大问题亲自过问、重点环节亲自协调。",
    "深入推进“放管服”改革，推行一网通办、接诉即办，让群众少跑腿、好办事。",
    "我们将以此次督导为契机，建章立制、堵塞漏洞，推动主题教育走深走实、见行见效。",
    "坚持以案为鉴、以案促改，筑牢拒腐防变思想防线，压紧压实管党治党政治责任。",
    "聚焦主责主业，聚力攻坚克难，数字赋能基层治理，擦亮为民服务品牌。",
    "全镇网格员深入走访，做实做细矛盾纠纷排查化解，确保小事不出村、大事不出镇、矛盾不上交。",
    "我们将踔厉奋发、勇毅前行，赓续红色血脉，奋力谱写高质量发展新篇章。",
    "领导干部要带头学、带头讲、带头做，以上率下、率先垂范。",
    "推动发展清单化管理、项目化推进、闭环式落实，确保各项任务按时完成。",
    "会议要求，各级各部门要把思想和行动统一到县委决策部署上来，同心同德、凝心聚力。",
    "县委书记王发明同志主持会议并讲话，县长李建国同志作工作报告。",
    "对排查出的问题，建立问题清单、责任清单、任务清单，实行销号管理。",
    "科研调查工作按计划推进，完成样本采集3000份。",
    "要把会开好、把事办好，确保会议精神传达到每一名党员。",
    "坚持落实落地，推动各项政策措施落实落细。",
    "全区上下积极投身乡村振兴，农村人居环境整治取得明显成效。",
    "深入学习习近平总书记关于党的建设的重要思想，切实增强政治判断力、政治领悟力、政治执行力。",
    "工作中我们深刻体会到，必须坚持党的全面领导，必须坚持以人民为中心，必须坚持问题导向。",
    "认真的学习态度和扎实的工作作风，是做好各项工作的基础。",
    "我们要以更加积极的姿态、更加务实的举措推动工作落实。",
    "大家普遍感到收获很大，认识更深了，思路更清了，干劲更足了。",
    "工作开展得有声有色，群众满意度不断提升。",
    "项目已于9月30日全面竣工并交付使用，签订合同金额1.2亿元。",
    "群众反映强烈的停车难问题得到有效解决。",
    "我们在工作中发现，一些企业对政策了解不多，需要加强宣传解读。",
    "做好新形势下的群众工作，关键在于密切联系群众。",
    "对于上级交办的事项，我们做到事事有回音、件件有着落。",
    "全市共有各类市场主体8.6万户，其中企业2.1万户。",
    "按照“四下基层”要求，县级领导深入基层开展调研，现场办公解决问题。",
    "党员的先锋模范作用得到充分发挥，党组织的凝聚力战斗力明显增强。",
    "会上，同志们畅所欲言，提出了很好的意见建议。",
    "为确保工作有序推进，县委成立了由书记任组长的领导小组。",
    "要坚持实事求是，一切从实际出发，防止搞形式、走过场。",
    "这些问题的存在，既有客观原因，也有主观原因。",
    "班子成员对照检查材料质量较高，查摆问题具体、剖析原因深刻、整改措施可行。",
    "各支部书记带头讲党课，党员参学率达98%以上。",
    "我们要更好地统筹发展和安全，守住不发生规模性返贫的底线。",
    "他们的工作很扎实，群众评价很高。",
    "经过努力，群众的获得感、幸福感、安全感不断增强。",
    "随着主题教育的深入，党员干部的思想认识不断提高。",
    "牢牢掌握工作的主动，防止问题积累成风险。",
    "这套制度是经过实践检验的规范，也是不同地区的共同做法。",
    "会议认为，各部门对工作的严格，是确保安全的前提。",
    "深刻领悟“两个确立”的决定性意义，增强“四个意识”、坚定“四个自信”、做到“两个维护”。",
    "习近平总书记强调，要坚定拥护“两个确立”、坚决做到“两个维护”。",
    "依法处置非法聚集群众、扰乱秩序的行为，城区人口聚集中心区域加强巡逻。",
    "一些干部对相关制度了解不深，导致制度出现漏洞。",
    "2023年，全县财政收入完成12.6亿元，同比增长8.3%，其中税收收入占比达到76%。",
    "县应急管理局坚持“人民至上、生命至上”，深入开展安全生产大排查大整治，全年未发生较大以上生产安全事故。",
    "全面落实河湖长制，完成河道清淤42公里，县域地表水考核断面水质优良比例达到100%。",
    "教育系统深化“双减”工作，义务教育阶段学校课后服务实现全覆盖，学生参与率达95%以上。",
    "医共体建设稳步推进，县人民医院与15家乡镇卫生院建立远程会诊系统，群众看病就医更加便捷。",
    "持续巩固拓展脱贫攻坚成果，落实防止返贫动态监测和帮扶机制，确保不发生规模性返贫。",
    "高标准农田建设完成3.2万亩，粮食总产量稳定在28万吨以上。",
    "全面推行“一窗受理、集成服务”，政务服务事项网上可办率达到98%。",
    "深化国有企业改革，完成县属国有企业整合重组，组建县城投集团。",
    "加强基层党组织建设，整顿软弱涣散村党组织6个，选优配强村党组织书记23名。",
    "严格执行《中国共产党纪律处分条例》，全年立案审查调查违纪违法案件48件，给予党纪政务处分51人。",
    "开展“清廉机关”创建活动，推动全面从严治党向纵深发展。",
    "统筹推进疫情防控和经济社会发展，千方百计稳住经济大盘。",
    "坚持以人民为中心的发展思想，全年民生支出占一般公共预算支出的81%。",
    "举办“乡村振兴大讲堂”12期，培训高素质农民860人次。",
    "加强生态环境保护，PM2.5平均浓度下降到29微克/立方米。",
    "县委常委会会议专题研究部署巡视整改工作，明确整改责任单位和完成时限。",
    "建立领导干部联系重点项目制度，实行“一个项目、一名领导、一套班子、一抓到底”。",
    "对标先进地区找差距，学习借鉴外地好的经验做法。",
    "坚持问题导向、目标导向、结果导向相统一，推动各项工作提质增效。",
    "严肃查处群众身边的不正之风和腐败问题，让群众感受到公平正义就在身边。",
    "深入开展“我为群众办实事”实践活动，累计办理民生实事326件。",
    "广泛开展志愿服务活动，全县注册志愿者达到5.8万人。",
    "推动党史学习教育常态化长效化，用好红色资源，讲好红色故事。",
    "完善社会治安防控体系，刑事案件发案数同比下降12.4%。",
    "加快推进城市更新，改造老旧小区18个，惠及居民4200户。",
    "全县上下要进一步统一思想、提高认识，以只争朝夕的精神状态投入工作。",
    "对于群众的合理诉求，我们坚持能解决的马上解决，一时解决不了的耐心做好解释工作。",
    "把握好政策的时度效，防止简单化、一刀切。",
    "各级领导干部要主动担当作为，敢于直面问题，善于破解难题。",
    "由于个别单位重视程度不够，工作推进较慢，影响了整体进度。",
    "从检查情况看，大部分单位制度健全、台账规范、措施有力。",
    "下一步，我们将坚持目标不变、标准不降、力度不减，确保各项任务如期完成。",
    "工作中存在的主要问题：一是思想认识有差距，二是工作推进不平衡，三是长效机制不健全。",
    "该同志政治立场坚定，工作认真负责，群众基础较好。",
    "会议强调，要把学习成果转化为推动工作的强大动力。",
    "我们将以更加昂扬的斗志、更加务实的作风，奋力开创各项工作新局面。",
    "2024年3月15日，县委召开全县经济工作会议。",
    "认真贯彻《关于进一步加强基层治理体系和治理能力现代化建设的意见》，推动基层治理重心下移。",
    "对反映集中的问题，由县纪委监委牵头组织专项治理。",
    "坚持“管行业必须管安全、管业务必须管安全、管生产经营必须管安全”，压实安全生产责任。",
    "全面推行河长制、湖长制、林长制，生态保护责任体系更加完善。",
    "督促各地做好防汛物资储备，落实24小时值班制度。",
    "镇村两级干部深入农户家中，面对面宣传政策，手把手指导生产。",
    "项目建设实行“周调度、月通报、季督查”，确保按期建成投产。",
    "加强人才队伍建设，引进各类急需紧缺人才125名。",
    "一年来，我们紧紧依靠全县干部群众，攻坚克难、砥砺奋进，经济社会发展取得新成效。",
    "全体党员干部要发扬斗争精神，增强斗争本领，在急难险重任务中经受考验。",
    "完善干部考核评价机制，树立重实干、重实绩的用人导向。",
    "深化“放管服”改革，企业开办时间压缩至1个工作日以内。",
    "开展“四下基层”活动，县级领导干部带头深入联系点调研，现场解决问题57个。",
    "努力让人民群众在每一个司法案件中感受到公平正义。",
    "班子成员之间相互支持、相互配合，形成了团结干事的良好氛围。",
    "加强意识形态工作，牢牢掌握意识形态工作领导权。",
    "认真做好信访工作，及时就地解决群众合理诉求。",
    "落实党风廉政建设主体责任，层层签订党风廉政建设责任书。",
]


@pytest.mark.parametrize("text", CLEAN, ids=[c[:8] for c in CLEAN])
def test_correct_official_prose_is_not_flagged(text):
    assert [f.message for f in wording(text)] == []


def test_correct_prose_as_one_report_is_not_flagged():
    assert wording("\n".join(CLEAN)) == []


# --- where findings are and how they show -----------------------------------------------------


def test_positions_are_those_of_the_input_across_lines():
    text = "一、总体情况\n\n　　今年以来，我们再接再励，推动工作。\n下一步，将抓的更紧，截止目前已完成。"
    findings = wording(text)
    assert [(f.line, wrong_text(text, f), f.suggestion) for f in findings] == [
        (3, "再接再励", "再接再厉"),
        (4, "抓的更紧", "抓得更紧"),
        (4, "截止", "截至"),
    ]
    assert all(wrong_text(text, f) in f.excerpt for f in findings)


def test_the_excerpt_holds_a_long_wrong_text_whole():
    text = "全县上下要紧紧围绕凝心铸魂筑牢根本、锤炼品格强化忠诚、实干担当促进发展、践行宗旨为民造福、廉洁奉工树立新风的目标任务。"
    (finding,) = wording(text)
    assert finding.suggestion.endswith("廉洁奉公树立新风")
    assert wrong_text(text, finding) in finding.excerpt


def test_wording_doubts_never_block_submission():
    text = "我们将再接再励，开展研调，截止目前抓的比较紧。"
    findings = check(text)
    assert {f.rule for f in findings} == {"wording"}
    assert errors_in(findings) == []


def test_finding_dict_carries_the_suggestion():
    (finding,) = wording("我们将再接再励。")
    assert finding.to_dict() == {
        "line": 1,
        "column": 4,
        "rule": "wording",
        "severity": "warning",
        "excerpt": "我们将再接再励。",
        "message": "“再接再励”疑为“再接再厉”（固定说法）。",
        "length": 4,
        "suggestion": "再接再厉",
    }


def test_cli_json_reports_wording(runner, tmp_path):
    path = tmp_path / "draft.txt"
    path.write_text("第一段。\n全县上下真抓实于，聚集整治突出问题。\n", encoding="utf-8")
    result = runner.invoke(args=["check", "--format", "json", str(path)])
    assert result.exit_code == 0  # warnings only
    findings = [f for f in json.loads(result.output) if f["rule"] == "wording"]
    assert [(f["line"], f["column"], f["suggestion"]) for f in findings] == [
        (2, 5, "真抓实干"),
        (2, 10, "聚焦"),
    ]
    assert "真抓实于" in findings[0]["excerpt"] and "聚集" in findings[1]["excerpt"]
    assert findings[0]["message"] == "“真抓实于”疑为“真抓实干”（固定说法）。"


def test_live_check_json_carries_the_suggestion(org, client, login):
    login(org["author_a"])
    data = client.post("/reports/check", json={"body": "全县上下真抓实于。"}).get_json()
    (finding,) = [f for f in data["findings"] if f["rule"] == "wording"]
    assert (finding["column"], finding["length"], finding["suggestion"]) == (5, 4, "真抓实干")
    assert data["errors"] == 0


# --- the phrase book --------------------------------------------------------------------------


def test_the_default_book_is_valid_and_has_hundreds_of_entries():
    book = load_book(DATA_FILE)
    kinds = {kind: len(book.of_kind(kind)) for kind in ("fixed", "idiom", "word", "confusion")}
    assert sum(kinds.values()) >= 500 and all(count >= 50 for count in kinds.values()), kinds
    assert len(book.keys()) == len(book)
    for entry in book.entries:
        assert entry.validate() is entry
    assert book.revision == default_book().revision


def test_an_added_entry_is_used_and_a_switched_off_entry_is_not():
    text = "坚持以文化人、以文育人，深入推进精神文明创建。推动工作再接再励。"
    assert [f.suggestion for f in wording(text)] == ["再接再厉"]
    added = Entry("confusion", "精神文明创建", "精神文明建设")
    book = current_book((added,), frozenset({"idiom:再接再厉"}))
    assert [f.suggestion for f in wording(text, book)] == ["精神文明建设"]
    assert book.revision != default_book().revision
    # The default book is untouched, and the same changes give the same (cached) book.
    assert [f.suggestion for f in wording(text)] == ["再接再厉"]
    assert current_book((added,), frozenset({"idiom:再接再厉"})) is book


def test_an_added_set_phrase_is_checked_by_sound_and_shape():
    book = default_book().with_changes([Entry("idiom", "凝心铸魂")])
    assert [f.suggestion for f in wording("坚持凝心筑魂。", book)] == ["凝心铸魂"]
    assert wording("坚持凝心筑魂。") == []


def test_check_shown_caches_per_book():
    text = "推动工作再接再励。"
    book = default_book().with_changes(disabled=["idiom:再接再厉"])
    assert [f.rule for f in check_shown(text)] == ["wording"]
    assert check_shown(text, book) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (Entry("idiom", "再接再"), "固定四字格须是四个汉字"),
        (Entry("word", "调研工作"), "常用词须是两个汉字"),
        (Entry("fixed", "两个"), "规范表述须是至少四个汉字"),
        (Entry("fixed", "abc两个维护"), "规范表述须是至少四个汉字"),
        (Entry("confusion", "聚集", ""), "正确写法须是汉字"),
        (Entry("confusion", "集", "焦"), "至少两个字"),
        (Entry("confusion", "聚焦", "聚焦"), "错误写法与正确写法相同"),
        (Entry("confusion", "聚集", "聚焦", after=("<script>",)), "上下文词语"),
        (Entry("idiom", "再接再厉", "再接再励"), "只有常见混用才有改法"),
        (Entry("rule", "再接再厉"), "未知的条目类别"),  # type: ignore[arg-type]
    ],
)
def test_bad_entries_are_refused_with_a_reason(entry, message):
    with pytest.raises(PhraseBookError) as refused:
        default_book().with_changes([entry])
    assert message in refused.value.message


# --- the data behind it -----------------------------------------------------------------------


def test_dictionaries_are_read_without_importing_jieba_or_pypinyin():
    # In a fresh interpreter: other tests import jieba into this one.
    probe = (
        "import sys; from app.documents.lexicon import lexicon; lexicon(); "
        "print(sorted({'jieba', 'pypinyin'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def test_lexicon_frequencies_and_readings():
    words = lexicon()
    assert words.freq("调研") > 100 and words.freq("研调") == 0
    assert words.freq("再接再厉") > words.freq("再接再励")
    assert sound_alike("励", "厉") and sound_alike("精", "进")  # fuzzy in/ing
    assert not sound_alike("立", "机")  # 立's rare reading wei does not count
    assert not sound_alike("赋", "不")  # nor 不's third reading fu (赋能 is no typo of 不能)
    assert sound_alike("航", "行")  # but 行's second reading hang does
    better = words.plausibility("充分发挥作用") - words.plausibility("充分发辉作用")
    assert better > 8


def test_hostile_texts_are_capped_and_complete():
    for unit in (
        "再接再励",
        "开展研调，",
        "抓的很好，",
        "截止目前，",
        "习近平新时代中国特色社会主意思想\n",
    ):
        text = unit * (200_000 // len(unit))
        hits = find_wording(text, default_book())
        assert 0 < len(hits) <= MAX_HITS
        assert all(0 <= h.start < h.end <= len(text) for h in hits)
