"""Chinese names of the regime's terms, in one place (ARCHITECTURE.md: ``labels.py``).

The regime's terms (supervision categories, levels, check methods, quota methods and subsets,
draw modes, joint checks, business lines, evaluation indicators, document kinds) and the
results register's outcomes and follow-ups (R7). The headers of a particular form stay with
the form's writer; unit names come from the policy (``Policy.unit_names``). The accepted spellings of each value (what a results register may
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

#: What a re-inspection (复查) of an order to correct found.
REINSPECTION_RESULT_ZH = {"rectified": "已整改", "not_rectified": "未整改"}

#: Status of a follow-up case (后续处置台账) as of a date.
CASE_STATUS_ZH = {"open": "办理中", "overdue": "逾期", "closed": "已办结"}

#: The 结果 of a spot-check in the national enterprise credit publicity system's block
#: 抽查检查结果信息 (its eight wordings exactly): an offence found (违法, not one of them) is
#: 发现问题待后续处理 there, a problem corrected is 发现问题已责令改正.
CREDIT_RESULT_ZH = {
    "no_problem": "未发现问题",
    "corrected": "发现问题已责令改正",
    "pending_follow_up": "发现问题待后续处理",
    "violation": "发现问题待后续处理",
    "no_activity": "未发现开展本次抽查涉及的经营活动",
    "closed": "已关闭停业或正在组织清算",
    "unreachable": "通过登记的住所（经营场所）无法联系",
    "obstructed": "不配合检查情节严重",
    "moved_or_deregistered": "迁移、注销等其他情况",
}

#: The 类型 of a spot-check in the credit publicity block, by the task's draw mode.
CREDIT_CHECK_TYPE_ZH = {"untargeted": "双随机抽查", "targeted": "定向抽查"}

#: Task origins (why a task was drawn; the policy's onsite_triggers and cap_exemptions name
#: them); an origin not listed is shown as it is.
ORIGIN_ZH = {
    "routine": "日常抽查", "complaint": "投诉举报", "leader_assigned": "领导交办",
    "transferred": "上级或其他部门转办", "emergency": "突发环境事件", "nuclear_safety": "核与辐射安全检查",
    "data_lead": "数据分析或非现场监管推送线索", "follow_up": "复查",
}

#: The confidential flag as the results template offers it.
YES_NO_ZH = {True: "是", False: "否"}

#: Parts of an annual plan a change is listed under (调整事项; dsr plan amend).
PLAN_PART_ZH = {
    "plan": "方案", "unit": "抽查单位", "quota": "最低抽查频次", "category": "监管对象分类",
    "categories": "监管对象分类", "credit_risk": "信用风险分类结合", "joint": "联合抽查",
    "draw": "抽取方式", "staffing": "执法人员匹配", "methods": "检查方式",
    "reporting": "报送与公开", "evaluation": "考核评估", "workload": "工作量",
    "other": "其他",
}

#: Settings of a plan by their key (``section.key``), as an amendment's document names them.
PLAN_FIELD_ZH = {
    "name": "方案名称", "year": "年度",
    "units.name": "名称", "units.level": "层级", "units.draws_from": "抽取范围",
    "units.authority": "发文机关",
    "categories.precedence": "类别冲突时的优先顺序", "categories.default": "默认监管类别",
    "credit_risk.weights": "信用风险分类入样权重", "credit_risk.min_share": "运用信用风险分类的抽查最低占比",
    "credit_risk.ratios": "信用风险分类抽查比例", "credit_risk.ratios_per": "信用风险分类抽查比例的期间",
    "joint.internal_min_share": "内部联合抽查最低占比",
    "joint.inter_departmental_per_quarter": "每季度部门联合抽查最少次数",
    "joint.count_offsite": "非现场检查计入内部联合抽查",
    "draw.mode": "默认抽取方式", "draw.overlap": "跨季度重复抽查控制",
    "draw.yearly_cap": "同一对象每年最多检查次数", "draw.cap_exemptions": "不计入次数上限的任务来源",
    "draw.between_levels": "新区本级与县级重复抽中的处理",
    "draw.area_inspectors_across_units": "新区本级跨单位抽取执法人员",
    "draw.overlap_scope": "重复抽查的计数范围",
    "staffing.min_inspectors_per_task": "每项任务最少执法人员数",
    "staffing.require_business_line_match": "须有事项所属业务条线的执法人员",
    "staffing.recusal_quarters": "回避季度数", "staffing.recuse_own_unit": "本单位执法人员回避",
    "staffing.max_tasks_per_inspector_per_quarter": "每名执法人员每季度任务上限",
    "staffing.max_offsite_tasks_per_inspector_per_quarter": "每名执法人员每季度非现场任务上限",
    "methods.offsite_first": "具备条件的优先非现场检查", "methods.onsite_triggers": "必须现场检查的任务来源",
    "reporting.results_publication": "抽查结果公开频次",
    "reporting.results_within_working_days": "抽查结果公开时限（工作日）",
    "reporting.summary_working_days_before_quarter_end": "季度工作总结报送期（季度末前工作日）",
    "reporting.statistics_working_days_after_quarter_end": "季度统计表报送时限（季度后工作日）",
    "evaluation.weights": "考核指标分值", "evaluation.results_on_time_min_share": "结果按时公开目标",
    "evaluation.follow_up_closed_min_share": "后续处置办结目标",
    "evaluation.as_of_working_days_after_quarter_end": "考核截止（季度后工作日）",
    "workload.min_objects_per_inspector_per_year": "每名执法人员每年最少抽查对象数",
}

#: Plan settings that are shares (shown as percentages in an amendment's list of changes).
PLAN_SHARE_FIELDS = frozenset({
    "min_share", "internal_min_share", "results_on_time_min_share",
    "follow_up_closed_min_share", "ratio"})

#: Registers by their Chinese names (messages about a register as a whole).
REGISTER_ZH = {"enterprises": "检查对象名录", "inspectors": "执法检查人员名录",
               "experts": "专家名录", "items": "随机抽查事项清单",
               "results": "检查结果登记表", "followups": "后续处置更新登记表"}


#: Supervision categories (R3: 特殊/重点/一般监管对象).
CATEGORY_ZH = {"special": "特殊监管对象", "key": "重点监管对象", "general": "一般监管对象"}

#: Levels of a drawing unit.
LEVEL_ZH = {"area": "新区本级", "county": "县级"}

#: How a drawn task is checked (检查方式).
CHECK_METHOD_ZH = {"onsite": "现场检查", "technology": "科技检查", "other": "其他检查"}

#: How a quota rule selects (抽取方式).
QUOTA_METHOD_ZH = {"random": "随机抽取", "offsite_full": "非现场全覆盖"}

#: The part of a category a quota rule applies to (范围).
SUBSET_ZH = {"all": "全部", "positive_list": "正面清单", "not_positive_list": "除正面清单外",
             "follow_up": "复查"}

#: Untargeted (不定向) or targeted (定向) draw.
DRAW_MODE_ZH = {"untargeted": "不定向抽查", "targeted": "定向抽查"}

#: Joint checks (联合抽查).
JOINT_ZH = {"none": "", "internal": "内部联合抽查", "inter_departmental": "部门联合抽查"}

#: Business lines (业务条线), as the registers write them first.
BUSINESS_LINE_ZH = {"air": "大气", "water": "水", "soil": "土壤", "solid_waste": "固体废物",
                    "radiation": "辐射", "noise": "噪声", "ecology": "生态",
                    "general_enforcement": "综合执法"}

#: Indicators of the quarterly evaluation (考核评估, R10).
INDICATOR_ZH = {
    "quotas_met": "各类监管对象抽查比例达标",
    "internal_joint_share": "内部联合抽查占比（年度累计）",
    "inter_departmental": "部门联合抽查次数（本季度）",
    "credit_share": "运用信用风险分类抽查占比",
    "results_on_time": "抽查结果按时公开",
    "reports_on_time": "工作总结和统计表按时报送",
    "follow_up_closed": "后续处置办结",
}

#: Kinds of document the reports number (发文字号 register).
DOCUMENT_KIND_ZH = {"summary": "季度工作情况报告", "evaluation": "考核评估通报"}

#: Credit-risk classes (信用风险分类), as the figures name them.
CREDIT_CLASS_ZH = {"A": "A类（低风险）", "B": "B类（一般风险）", "C": "C类（较高风险）",
                   "D": "D类（高风险）", "all": "不分类"}
