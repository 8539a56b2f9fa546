"""Chinese names of the regime's terms, in one place (ARCHITECTURE.md: ``labels.py``).

For now the outcomes and follow-ups of the results register (R7); the other modules' label
tables move here later. The accepted spellings of each value (what a results register may
say) are in :data:`dsr_analysis.schema.ENUMS`, which starts every list with the label below,
so a value written as it is shown is always read back.
"""

from __future__ import annotations

#: Spot-check outcomes, as the national enterprise credit publicity system (国家企业信用信息
#: 公示系统) records them, plus 违法 (an offence found: a penalty case or a referral).
OUTCOME_ZH = {
    "no_problem": "未发现问题",
    "corrected": "发现问题已责令改正（含当场整改）",
    "pending_follow_up": "发现问题待后续处理",
    "violation": "违法",
    "no_activity": "未发现开展本次抽查涉及的经营活动",
    "closed": "已关闭停业或正在组织清算",
    "unreachable": "通过登记的住所（经营场所）无法联系",
    "obstructed": "不配合检查情节严重",
    "moved_or_deregistered": "迁移、注销等其他情况",
}

#: Follow-ups of a result (R7: problems are handed on, crimes referred, the loop closed).
FOLLOW_UP_ZH = {
    "none": "无",
    "rectification_order": "责令整改",
    "hand_over": "转办",
    "transfer": "移交",
    "judicial_referral": "移送司法机关",
    "penalty": "立案处罚",
}

#: State of a follow-up as of a report's cut-off (数据截止日期).
FOLLOW_UP_STATE_ZH = {"closed": "已办结", "open": "办理中", "rectified": "已整改",
                      "rectifying": "整改中", "overdue": "逾期未整改"}

#: The confidential flag as the results template offers it.
YES_NO_ZH = {True: "是", False: "否"}
