"""Register schema: the columns of every register, their Chinese header aliases, optional
columns, keys and the enumerations with their accepted spellings (R1). The one table of each;
registers, policy and the draw read them from here."""

from __future__ import annotations

from .labels import BUSINESS_LINE_ZH, FOLLOW_UP_ZH, OUTCOME_ZH, REINSPECTION_RESULT_ZH

REGISTER_NAMES = ("enterprises", "inspectors", "experts", "items")

# --------------------------------------------------------------------------------------
# Alias table: canonical column -> accepted headers (the canonical name is always accepted).
# --------------------------------------------------------------------------------------
COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "enterprises": {
        "uscc": ("统一社会信用代码", "社会信用代码", "信用代码"),
        "name": ("企业名称", "单位名称", "检查对象名称", "名称"),
        "unit": ("所属单位", "属地", "监管单位", "所属区县"),
        "industry": ("行业", "行业类别", "所属行业"),
        "town": ("乡镇", "所在乡镇", "区域"),
        "permit_class": ("排污许可管理类别", "许可管理类别", "排污许可类别"),
        "key_polluter": ("重点排污单位", "是否重点排污单位"),
        "positive_list": ("正面清单", "是否纳入正面清单", "执法正面清单"),
        "offsite_capable": ("具备非现场监管条件", "非现场监管条件", "是否具备非现场检查条件"),
        "credit_class": ("信用风险分类", "信用风险等级", "信用等级"),
        "penalised_last_year": ("上年度受到行政处罚", "上年度行政处罚"),
        "supervision_order_last_year": ("上年度挂牌督办", "挂牌督办"),
        "complaints_last_year": ("上年度有效投诉举报次数", "上年度投诉举报次数", "投诉举报次数"),
        "emergency_risk": ("突发环境事件风险等级", "环境风险等级"),
        # Optional contact columns (printed on the task sheets, never drawn on):
        "address": ("详细地址", "地址", "住所", "经营场所", "生产经营场所地址", "注册地址"),
        "contact": ("联系电话", "联系方式", "电话", "联系人电话"),
        "legal_representative": ("法定代表人", "法人代表", "负责人", "法定代表人（负责人）"),
    },
    "inspectors": {
        "inspector_id": ("执法人员编号", "人员编号", "编号"),
        "name": ("姓名", "执法人员姓名"),
        "unit": ("所属单位", "单位"),
        "business_line": ("业务条线", "业务领域"),
        "expertise": ("擅长行业", "专长"),
        "certified": ("持有执法证", "持证", "是否持证"),
        "active": ("在岗", "是否在岗"),
        "conflicts": ("回避企业", "申报回避对象", "利害关系企业"),
    },
    "experts": {
        "expert_id": ("专家编号", "编号"),
        "name": ("姓名", "专家姓名"),
        "organisation": ("所在单位", "工作单位"),
        "region": ("区域", "所在区域"),
        "industries": ("擅长行业", "专业领域"),
    },
    "items": {
        "item_id": ("事项编号", "抽查事项编号", "编号"),
        "name": ("事项名称", "抽查事项", "名称"),
        "legal_basis": ("法律依据", "检查依据"),
        "business_line": ("业务条线", "业务领域"),
        "applies_to": ("适用行业", "检查对象范围", "适用对象"),
        "department": ("联合部门", "配合部门"),
        "needs_expert": ("需要专家", "是否需要专家"),
    },
    # Fifth register: inspection results per drawn task (R7, R8); see dsr_analysis/results.py.
    "results": {
        "task_id": ("任务编号", "抽查任务编号"),
        "uscc": ("统一社会信用代码", "社会信用代码", "信用代码"),
        "date_checked": ("检查日期", "抽查日期"),
        "outcome": ("检查结果", "抽查结果"),
        "follow_up": ("后续处置", "处理措施", "后续处理"),
        "date_follow_up_closed": ("处置办结日期", "后续处置办结日期", "办结日期"),
        "date_published": ("公示日期", "公开日期"),
        "confidential": ("涉密不予公开", "不予公开", "是否涉密"),
        "remark": ("备注", "典型案例说明"),
        "rectification_deadline": ("整改期限", "整改时限", "限期整改日期"),
        "case_number": ("案件编号", "立案编号", "处罚决定书文号"),
        "penalty_amount": ("罚没款金额（元）", "罚没款金额", "罚款金额", "罚没金额"),
        # Optional case columns of a follow-up (后续处置台账, dsr_analysis/followups.py):
        "receiving_body": ("接收单位", "承办单位", "移交单位", "移送机关"),
        "date_follow_up_opened": ("处置日期", "移交日期", "转办日期", "立案日期", "下达日期"),
        "date_reinspected": ("复查日期",),
        "reinspection_result": ("复查结果",),
        "supervision_order": ("挂牌督办", "是否挂牌督办", "被挂牌督办"),
    },
    # Dated updates of follow-up cases (后续处置更新表, dsr_analysis/followups.py): one row per
    # update of a case; the case fields as in the results register.
    "followups": {
        "task_id": ("任务编号", "抽查任务编号"),
        "date_updated": ("更新日期", "登记日期"),
        "receiving_body": ("接收单位", "承办单位", "移交单位", "移送机关"),
        "date_follow_up_opened": ("处置日期", "移交日期", "转办日期", "立案日期", "下达日期"),
        "rectification_deadline": ("整改期限", "整改时限", "限期整改日期"),
        "case_number": ("案件编号", "立案编号", "处罚决定书文号"),
        "penalty_amount": ("罚没款金额（元）", "罚没款金额", "罚款金额", "罚没金额"),
        "date_reinspected": ("复查日期",),
        "reinspection_result": ("复查结果",),
        "date_follow_up_closed": ("处置办结日期", "后续处置办结日期", "办结日期"),
        "remark": ("备注", "办理情况"),
    },
}

# Column kinds: str, bool, int (>= 0), date (not after today), deadline (a date that may lie
# ahead), amount (>= 0, yuan, at most 2 decimals), enum:<name>, list, uscc, unit
SCHEMAS: dict[str, dict[str, tuple[str, bool]]] = {
    # column: (kind, required-and-non-blank)
    "enterprises": {
        "uscc": ("uscc", True),
        "name": ("str", True),
        "unit": ("unit", True),
        "industry": ("str", True),
        "town": ("str", False),
        "permit_class": ("enum:permit_class", True),
        "key_polluter": ("bool", True),
        "positive_list": ("bool", True),
        "offsite_capable": ("bool", True),
        "credit_class": ("enum:credit_class", True),
        "penalised_last_year": ("bool", True),
        "supervision_order_last_year": ("bool", True),
        "complaints_last_year": ("int", True),
        "emergency_risk": ("enum:emergency_risk", True),
        "address": ("str", False),
        "contact": ("str", False),
        "legal_representative": ("str", False),
    },
    "inspectors": {
        "inspector_id": ("str", True),
        "name": ("str", True),
        "unit": ("unit", True),
        "business_line": ("enum:business_line", True),
        "expertise": ("list", False),
        "certified": ("bool", True),
        "active": ("bool", True),
        "conflicts": ("list", False),
    },
    "experts": {
        "expert_id": ("str", True),
        "name": ("str", True),
        "organisation": ("str", True),
        "region": ("str", True),
        "industries": ("list", True),
    },
    "items": {
        "item_id": ("str", True),
        "name": ("str", True),
        "legal_basis": ("str", True),
        "business_line": ("enum:business_line", True),
        "applies_to": ("list", True),
        "department": ("str", False),
        "needs_expert": ("bool", True),
    },
    "results": {
        "task_id": ("str", True),
        "uscc": ("uscc", True),
        "date_checked": ("date", True),
        "outcome": ("enum:outcome", True),
        "follow_up": ("enum:follow_up", True),
        "date_follow_up_closed": ("date", False),
        "date_published": ("date", False),
        "confidential": ("bool", True),
        "remark": ("str", False),
        "rectification_deadline": ("deadline", False),
        "case_number": ("str", False),
        "penalty_amount": ("amount", False),
        "receiving_body": ("str", False),
        "date_follow_up_opened": ("date", False),
        "date_reinspected": ("date", False),
        "reinspection_result": ("enum:reinspection_result", False),
        # 挂牌督办: the firm was put under supervision order after this check (optional;
        # the rollover reads it into next year's supervision_order_last_year)
        "supervision_order": ("bool", False),
    },
    "followups": {
        "task_id": ("str", True),
        "date_updated": ("date", True),
        "receiving_body": ("str", False),
        "date_follow_up_opened": ("date", False),
        "rectification_deadline": ("deadline", False),
        "case_number": ("str", False),
        "penalty_amount": ("amount", False),
        "date_reinspected": ("date", False),
        "reinspection_result": ("enum:reinspection_result", False),
        "date_follow_up_closed": ("date", False),
        "remark": ("str", False),
    },
}

#: Optional enterprise columns a field team needs (详细地址, 联系电话, 法定代表人): read,
#: checked as text and printed on the task sheets (``dsr tasks``), never part of the draw.
CONTACT_COLUMNS: tuple[str, ...] = ("address", "contact", "legal_representative")

#: Columns that are optional as a whole (may be absent from the file).
OPTIONAL_COLUMNS = {
    "enterprises": {"town", *CONTACT_COLUMNS},
    "inspectors": {"expertise", "conflicts"},
    "experts": set(),
    "items": {"department"},
    "results": {"date_follow_up_closed", "date_published", "remark", "rectification_deadline",
                "case_number", "penalty_amount", "receiving_body", "date_follow_up_opened",
                "date_reinspected", "reinspection_result", "supervision_order"},
    "followups": {"receiving_body", "date_follow_up_opened", "rectification_deadline",
                  "case_number", "penalty_amount", "date_reinspected", "reinspection_result",
                  "date_follow_up_closed", "remark"},
}

#: Registers that must hold at least one row: a header alone is an error ("no enterprises").
#: An expert register or a results register may be empty (no experts yet, nothing checked yet).
MUST_HAVE_ROWS = frozenset({"enterprises", "inspectors", "items"})

#: List columns that hold industry names (GB/T 4754 names may contain 、, so lists are
#: split only on :data:`LIST_SEPARATORS`).
INDUSTRY_LIST_COLUMNS = {
    "inspectors": frozenset({"expertise"}),
    "experts": frozenset({"industries"}),
    "items": frozenset({"applies_to"}),
}

#: Separators of the values of a ``list`` column: ; ； | and a line break (an XLSX cell;
#: a CSV value never holds one). Not 、: industry names such as 电线、电缆制造 contain it.
LIST_SEPARATORS = ";；|\r\n"

#: The value of an industry list meaning every industry, and the spellings read as it.
ALL_INDUSTRIES = "全部"
ALL_INDUSTRIES_SPELLINGS = ("全部", "全部行业", "所有行业")

#: Key column of each register (must be unique).
KEY_COLUMNS = {
    "enterprises": "uscc",
    "inspectors": "inspector_id",
    "experts": "expert_id",
    "items": "item_id",
    "results": "task_id",
    # none: a case has one row per dated update (task_id + date_updated checked by followups)
    "followups": "",
}

# Enumerations: canonical value -> accepted spellings (case-insensitive for Latin).
ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "permit_class": {
        "key": ("重点管理", "重点"),
        "simplified": ("简化管理", "简化"),
        "registration": ("登记管理", "登记"),
    },
    "credit_class": {
        "A": ("A类", "低风险"),
        "B": ("B类", "一般风险"),
        "C": ("C类", "较高风险"),
        "D": ("D类", "高风险"),
    },
    # HJ 941-2018 (企业突发环境事件风险分级方法) names the levels 一般/较大/重大环境风险;
    # platforms export them with or without 等级.
    "emergency_risk": {
        "none": ("无", "未评级"),
        "general": ("一般", "一般环境风险", "一般环境风险等级"),
        "larger": ("较大", "较大环境风险", "较大环境风险等级"),
        "major": ("重大", "重大环境风险", "重大环境风险等级"),
    },
    "business_line": {
        "air": (BUSINESS_LINE_ZH["air"],),
        "water": (BUSINESS_LINE_ZH["water"], "水环境"),
        "soil": (BUSINESS_LINE_ZH["soil"],),
        "solid_waste": (BUSINESS_LINE_ZH["solid_waste"], "固废"),
        "radiation": (BUSINESS_LINE_ZH["radiation"], "核与辐射"),
        "noise": (BUSINESS_LINE_ZH["noise"],),
        "ecology": (BUSINESS_LINE_ZH["ecology"], "自然生态"),
        "general_enforcement": (BUSINESS_LINE_ZH["general_enforcement"], "综合"),
    },
    # Outcomes (R7): the national enterprise credit publicity system's wording, its short
    # forms, and the values of the first results registers (problem_found / 发现问题 now read
    # as pending_follow_up). 企业已停产 / 停产: the firm exists but the activity the check is
    # about was not going on -> no_activity; 停业 / 关闭 / 清算: closed.
    "outcome": {
        "no_problem": (OUTCOME_ZH["no_problem"], "无问题", "no problem"),
        "corrected": (OUTCOME_ZH["corrected"], "发现问题已责令改正", "已责令改正", "当场整改",
                      "已当场整改", "发现问题已当场整改", "发现问题已整改"),
        "pending_follow_up": (OUTCOME_ZH["pending_follow_up"], "待后续处理", "发现问题",
                              "problem_found", "problem found"),
        "violation": (OUTCOME_ZH["violation"], "发现违法行为", "存在违法行为"),
        "no_activity": (OUTCOME_ZH["no_activity"], "未发现开展经营活动", "未发现经营活动",
                        "企业已停产", "已停产", "停产"),
        "closed": (OUTCOME_ZH["closed"], "已关闭停业", "已关闭", "已停业", "停业", "关闭停业",
                   "企业已关闭", "正在组织清算"),
        "unreachable": (OUTCOME_ZH["unreachable"], "通过登记的住所(经营场所)无法联系",
                        "通过登记的住所无法联系", "住所无法联系", "无法联系"),
        "obstructed": (OUTCOME_ZH["obstructed"], "不配合检查", "拒绝检查"),
        "moved_or_deregistered": (OUTCOME_ZH["moved_or_deregistered"], "已迁移", "已注销",
                                  "迁移", "注销"),
    },
    "follow_up": {
        "none": (FOLLOW_UP_ZH["none"], "无需处置", "当场整改"),
        "rectification_order": (FOLLOW_UP_ZH["rectification_order"], "责令改正", "责令限期整改",
                                "限期整改", "下达整改通知书"),
        "hand_over": (FOLLOW_UP_ZH["hand_over"], "hand-over"),
        "transfer": (FOLLOW_UP_ZH["transfer"], "移交有关部门"),
        "judicial_referral": (FOLLOW_UP_ZH["judicial_referral"], "移送公安机关",
                              "judicial referral"),
        "penalty": (FOLLOW_UP_ZH["penalty"], "行政处罚", "处罚"),
    },
    # 复查 (re-inspection of an order to correct): what it found.
    "reinspection_result": {
        "rectified": (REINSPECTION_RESULT_ZH["rectified"], "整改完成", "已完成整改", "复查合格"),
        "not_rectified": (REINSPECTION_RESULT_ZH["not_rectified"], "未完成整改", "整改未完成",
                          "复查不合格"),
    },
}

# --------------------------------------------------------------------------------------
# What each outcome means for the follow-up (R7), and how the reports group outcomes.
# --------------------------------------------------------------------------------------
#: Follow-ups an outcome admits. Nothing to follow up when nothing was found or nothing could
#: be checked; a problem corrected on the spot needs none (or an order to correct by a
#: deadline); a problem left for later and an offence need one (R7: every problem found is
#: followed up); refusing a check is itself an offence: penalised or handed on, not merely
#: ordered to correct.
FOLLOW_UPS_ALLOWED: dict[str, tuple[str, ...]] = {
    "no_problem": ("none",),
    "corrected": ("none", "rectification_order"),
    "pending_follow_up": ("rectification_order", "hand_over", "transfer", "judicial_referral",
                          "penalty"),
    "violation": ("rectification_order", "hand_over", "transfer", "judicial_referral",
                  "penalty"),
    "obstructed": ("hand_over", "transfer", "judicial_referral", "penalty"),
    "no_activity": ("none",),
    "closed": ("none",),
    "unreachable": ("none",),
    "moved_or_deregistered": ("none",),
}
#: Problems found (the statistics table's 发现问题): corrected on the spot or left for later.
PROBLEM_OUTCOMES = ("corrected", "pending_follow_up")
#: Checks that found nothing to inspect (closed, no activity, not reachable, moved): completed
#: checks, counted in their own column.
NOT_OPERATING_OUTCOMES = ("no_activity", "closed", "unreachable", "moved_or_deregistered")
#: Follow-ups that may carry a rectification deadline (整改期限): an order to correct, and a
#: penalty decision that also orders correction.
DEADLINE_FOLLOW_UPS = ("rectification_order", "penalty")
#: Follow-ups handed to another body (接收单位 / 承办单位 / 移交单位 / 移送机关 applies).
RECEIVING_FOLLOW_UPS = ("hand_over", "transfer", "judicial_referral")


#: Columns of the canonical enterprise frame, in order: the enterprise register's columns a
#: draw depends on. Fixed: the frame is hashed into every draw's seed and commitment, so a
#: column added to the register (such as :data:`CONTACT_COLUMNS`) must never enter it, or
#: every earlier draw would stop replaying.
FRAME_COLUMNS: tuple[str, ...] = (
    "uscc", "name", "unit", "industry", "town", "permit_class", "key_polluter",
    "positive_list", "offsite_capable", "credit_class", "penalised_last_year",
    "supervision_order_last_year", "complaints_last_year", "emergency_risk")
