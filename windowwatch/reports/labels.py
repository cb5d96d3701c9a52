"""The words of the published report (SPEC §4.8 v2): the 通报 is Chinese, its English rendering
(ranking.en.html) says the same; every code of the marts is shown by its name.

The marts store codes (rule ids, flag kinds, `S_left_out`) and, in `veto_reason`, a bilingual
sentence with the evidence ids (docs/rules.md#veto). The report translates them here, by
keyword, so a reworded reason still reads as its rule; what is not recognised is not printed
as English in the Chinese body (the data notes keep the stored values).
"""

from __future__ import annotations

import re
from typing import Any

LANGS = ("zh", "en")

# ---------------------------------------------------------------- the document's own words

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "{center}{month}窗口服务质量考核通报",
              "en": "{center}: service-quality ranking of the windows, {month}"},
    "sub": {"zh": "第 {version} 版 · 发布于 {created} · 数据截至 {as_of}（最新业务时间 {max_event}）",
            "en": "Version {version} · published {created} · data as of {as_of} (latest event {max_event})"},
    "intro": {"zh": "根据《{center}窗口服务质量考核办法》，现将{month}各窗口服务质量考核结果通报如下。",
              "en": "Under the centre's rules for assessing the service quality of its windows, the results "
                    "for {month} are published as follows."},
    "footer": {"zh": "{month}窗口服务质量考核通报 · 第 {version} 版 · 第 \" counter(page) \" 页 / 共 \" counter(pages) \" 页",
               "en": "Window ranking {month} · version {version} · page \" counter(page) \" of \" counter(pages) \""},
    "note": {"zh": "注意：", "en": "Note: "},
    "assumed": {"zh": "本月部分日期不在官方节假日安排之内，已按“周一至周五为工作日”推定；涉及窗口：{names}。",
                "en": "Some days of this month were not in the official holiday calendar and were assumed "
                      "working days Monday to Friday; windows concerned: {names}."},
    "changes": {"zh": "本版变更说明（相对第 {version} 版）", "en": "Changes against version {version}"},
    "h.summary": {"zh": "一、总体情况", "en": "1. Summary"},
    "h.red": {"zh": "二、红旗窗口", "en": "2. Red-flag windows"},
    "h.ranking": {"zh": "三、星级评定结果", "en": "3. Stars and ranking"},
    "h.bottom": {"zh": "四、末位窗口（约谈）", "en": "4. Bottom windows (to be interviewed)"},
    "h.departments": {"zh": "五、部门情况", "en": "5. Departments"},
    "h.rules": {"zh": "六、评分规则（评分文件第 {version} 版）", "en": "6. Scoring rules (scoring file version {version})"},
    "h.data": {"zh": "附件　数据说明", "en": "Annex: data notes"},
    "h.scoring_file": {"zh": "评分文件（第 {version} 版）全部参数", "en": "Every parameter of the scoring file (version {version})"},
    "red.line": {"zh": "{name}（{dept}）　得分 {score}，第 {rank} 名",
                 "en": "{name} ({dept}): score {score}, rank {rank}"},
    "red.praise": {"zh": "以上窗口授予本月“红旗窗口”称号，予以通报表扬。",
                   "en": "These windows are named red-flag windows of the month."},
    "red.none": {"zh": "本月无窗口达到红旗窗口条件。", "en": "No window met the red-flag conditions this month."},
    "bottom.call": {"zh": "请以上窗口所属部门负责人于下月 10 日前接受约谈，并提交整改报告。",
                    "en": "The heads of these windows' departments are to be interviewed before the 10th of "
                          "next month and to hand in a rectification report."},
    "bottom.none": {"zh": "本月无末位窗口（无参评窗口）。", "en": "No bottom window this month (no eligible window)."},
    "dept.none": {"zh": "无部门数据。", "en": "No department data."},
    "chart.scores": {"zh": "图1　参评窗口得分（按名次，横轴 {lo}–100）",
                     "en": "Figure 1. Scores of the eligible windows, in rank order (axis {lo}–100)"},
    "chart.stars": {"zh": "图2　星级分布（窗口数）", "en": "Figure 2. Windows per star level"},
    "signoff.date": {"zh": "{y}年{m}月{d}日", "en": "{d} {month_name} {y}"},
    "final": {"zh": "本通报为第 {version} 版，发布后不再修改；数据更正将以新版本发布并列明变更。",
              "en": "This is version {version}; it is never changed after publication. A correction is "
                    "published as a new version that states what changed."},
    # the cells
    "not_ranked": {"zh": "不参评（样本不足）", "en": "not ranked (too few cases)"},
    "red": {"zh": "红旗", "en": "red flag"},
    "bottom": {"zh": "末位", "en": "bottom"},
    "bottom_repeat": {"zh": "连续末位", "en": "bottom two months running"},
    "veto": {"zh": "一票否决：{reason}", "en": "veto: {reason}"},
    "too_few": {"zh": "办结 {n} 件，不足 {min} 件", "en": "{n} cases completed, fewer than {min}"},
    "deductions": {"zh": "扣分 {points}", "en": "deductions {points}"},
    "times": {"zh": "{n} 次", "en": "{n}"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "none": {"zh": "无", "en": "none"},
    "sep": {"zh": "；", "en": "; "},
    "list_sep": {"zh": "、", "en": ", "},
    # 一、总体情况: the 好差评 loop and the hall in words (SPEC v2 §4.4, §4.10, §4.11)
    "loop": {"zh": "好差评闭环：主动评价率 {active}；差评核实及时率 {verify}（应核实 {vdue} 件）；实名差评回访及时率 {callback}"
                   "（应回访 {cdue} 件）。系统默认评价 {defaults} 条、申诉撤销差评 {overturned} 条，均不计入满意度。",
             "en": "Rating follow-up: active evaluation rate {active}; bad ratings verified on time {verify} ({vdue} due); "
                   "real-name bad reviews called back on time {callback} ({cdue} due). {defaults} system-default ratings "
                   "and {overturned} bad reviews overturned on appeal count in no satisfaction figure."},
    "hall.attendance": {"zh": "在岗率 {rate}（缺岗 {absent} 个窗口日，迟到 {late} 次、早退 {early} 次）",
                        "en": "in-post rate {rate} ({absent} absent window-days, {late} late arrivals, {early} early leaves)"},
    "hall.queue": {"zh": "90% 等候最长的窗口为{window}（{worst} 分钟）",
                   "en": "longest 90th-percentile queue wait at {window} ({worst} minutes)"},
    "hall.complaints": {"zh": "查实投诉 {n} 件", "en": "{n} substantiated complaints"},
    "hall.findings": {"zh": "明察暗访发现问题 {n} 项", "en": "{n} inspection findings"},
    "hall.supervision": {"zh": "督办 {opened} 件（按期回告 {acked} 件，升级 {escalated} 件）",
                         "en": "{opened} supervision items ({acked} acknowledged on time, {escalated} escalated)"},
    "hall": {"zh": "大厅运行：{parts}。", "en": "Hall operations: {parts}."},
    "deductions.by_source": {"zh": "扣分 {points}（{parts}）", "en": "deductions {points} ({parts})"},
    "h.adjust": {"zh": "窗口动态增减建议", "en": "Window adjustment proposals"},
    "adjust.none": {"zh": "本月无增减窗口建议。", "en": "No window adjustment proposed this month."},
    "adjust.add": {"zh": "建议增开 1 个窗口", "en": "add one window"},
    "adjust.merge": {"zh": "建议撤并 1 个窗口", "en": "merge one window away"},
    "changes.scoring": {"zh": "评分规则文件已变更。", "en": "The scoring file changed."},
    "changes.added": {"zh": "新增窗口：{names}", "en": "Windows added: {names}"},
    "changes.removed": {"zh": "移除窗口：{names}", "en": "Windows removed: {names}"},
    "changes.other": {"zh": "排名无变化，其他指标有更新。", "en": "No ranking change; other indicators were updated."},
}

KPI = {
    "windows": {"zh": "考核窗口 / 参评窗口", "en": "Windows / eligible"},
    "cases": {"zh": "受理 / 办结件数", "en": "Cases accepted / completed"},
    "on_time": {"zh": "按时办结率", "en": "On-time rate"},
    "satisfaction": {"zh": "好评率", "en": "Good-review rate"},
    "mean_score": {"zh": "参评窗口平均分", "en": "Mean score of the eligible windows"},
    "off_book": {"zh": "体外循环疑似件", "en": "Suspected off-book cases"},
    "video": {"zh": "视频违规（已确认）", "en": "Video flags (confirmed)"},
    "red_bottom": {"zh": "红旗 / 末位窗口", "en": "Red-flag / bottom windows"},
}

# the window table of section 三 (key, zh, en)
RANKING_HEAD = [
    ("rank", "名次", "Rank"),
    ("window", "窗口", "Window"),
    ("department", "部门", "Department"),
    ("score", "得分", "Score"),
    ("stars", "星级", "Stars"),
    ("on_time_rate", "按时办结率", "On time"),
    ("adjusted_satisfaction", "满意度（调整）", "Satisfaction (adjusted)"),
    ("rectification_rate", "整改率", "Rectified"),
    ("off_book_rate", "体外循环率", "Off-book"),
    ("video_flags_confirmed", "违规", "Flags"),
    ("cases_completed", "办结", "Completed"),
    ("remarks", "备注", "Remarks"),
]

BOTTOM_HEAD = [("window", "窗口", "Window"), ("department", "部门", "Department"), ("score", "得分", "Score"),
               ("rank", "名次", "Rank"), ("weak", "主要失分项", "Main shortfalls")]

# Every column of fct_window_month / fct_department_month a reader may see (the XLSX headers and
# the department table): (zh, en). A column not listed keeps its name in the XLSX.
COLUMNS: dict[str, tuple[str, str]] = {
    "month": ("月份", "Month"),
    "rank": ("名次", "Rank"),
    "window_name": ("窗口名称", "Window"),
    "window_id": ("窗口编号", "Window number"),
    "department_name": ("所属部门", "Department"),
    "department_id": ("部门编号", "Department number"),
    "center_name": ("中心", "Centre"),
    "score": ("得分", "Score"),
    "stars": ("星级", "Stars"),
    "stars_before_veto": ("否决前星级", "Stars before the veto"),
    "is_eligible": ("参评", "Eligible"),
    "is_red_flag": ("红旗窗口", "Red flag"),
    "is_bottom": ("末位窗口", "Bottom"),
    "is_bottom_repeat": ("连续末位", "Bottom two months running"),
    "veto_reason": ("一票否决", "Veto"),
    "score_note": ("得分说明", "Score note"),
    "deductions": ("扣分", "Deductions"),
    "cases_accepted": ("受理件数", "Cases accepted"),
    "cases_completed": ("办结件数", "Cases completed"),
    "on_time_rate": ("按时办结率", "On-time rate"),
    "same_day_rate": ("当日办结率", "Same-day rate"),
    "immediate_on_time_rate": ("即办件按时率", "Immediate items on time"),
    "off_book_cases": ("体外循环疑似件", "Suspected off-book cases"),
    "off_book_rate": ("体外循环率", "Off-book rate"),
    "evaluations": ("评价数", "Ratings"),
    "good_reviews": ("好评数", "Good reviews"),
    "bad_reviews": ("差评数", "Bad reviews"),
    "satisfaction_rate": ("好评率", "Good-review rate"),
    "adjusted_satisfaction": ("调整满意度", "Adjusted satisfaction"),
    "center_satisfaction_rate": ("中心好评率", "Centre good-review rate"),
    "rectification_due": ("应整改差评数", "Bad reviews due for rectification"),
    "rectification_rate": ("差评整改率", "Rectification rate"),
    "rectification_late": ("逾期整改数", "Rectified late"),
    "evaluation_rate": ("评价率", "Rating rate"),
    "video_flags_confirmed": ("视频违规（已确认）", "Video flags (confirmed)"),
    "handover_flags_confirmed": ("私下收件（已确认）", "Private handovers (confirmed)"),
    "video_flags_pending": ("视频违规（待确认）", "Video flags (pending)"),
    "legal_overdue_cases": ("超法定时限件数", "Cases past the legal limit"),
    "timeliness_signal_cases": ("时限合规疑点件数", "Cases with a timeliness signal"),
    "default_ratings": ("系统默认评价数", "System-default ratings"),
    "active_evaluation_rate": ("主动评价率", "Active evaluation rate"),
    "appeals_overturned": ("申诉撤销差评数", "Bad reviews overturned on appeal"),
    "verification_rate": ("差评核实及时率", "Bad ratings verified on time"),
    "callback_rate": ("实名差评回访及时率", "Real-name bad reviews called back on time"),
    "reported_cases": ("部门自报件数", "Cases the department reported"),
    "volume_gap": ("应进未进件数", "Volume gap"),
    "has_volume_gap_signal": ("应进未进疑点", "Volume-gap signal"),
    "eligible_windows": ("参评窗口数", "Eligible windows"),
    "uses_assumed_calendar": ("含推定工作日", "Uses assumed working days"),
    "days_scheduled": ("应在岗天数", "Scheduled days"),
    "days_staffed": ("在岗天数", "Staffed days"),
    "days_covered": ("请假/公出顶岗天数", "Days covered by leave or business"),
    "in_post_rate": ("在岗率", "In-post rate"),
    "absent_days": ("缺岗天数", "Absent days"),
    "late_arrivals": ("迟到次数", "Late arrivals"),
    "early_leaves": ("早退次数", "Early leaves"),
    "avg_wait_minutes": ("平均等候（分钟）", "Average wait (minutes)"),
    "p90_wait_minutes": ("90%等候（分钟）", "90th-percentile wait (minutes)"),
    "substantiated_complaints": ("查实投诉件数", "Substantiated complaints"),
    "work_orders_closed_on_time_rate": ("工单按期办结率", "Work orders closed on time"),
    "inspection_findings": ("明察暗访发现问题数", "Inspection findings"),
    "supervision_items_opened": ("督办件数", "Supervision items opened"),
    "supervision_acknowledged_on_time": ("按期回告件数", "Acknowledged on time"),
    "supervision_escalated": ("督办升级件数", "Supervision items escalated"),
    "component_t": ("按时办结（T）", "On time (T)"),
    "component_s": ("满意度（S）", "Satisfaction (S)"),
    "component_d": ("纪律（D）", "Discipline (D)"),
    "component_i": ("体外循环（I）", "Integrity (I)"),
    "component_r": ("差评整改（R）", "Rectification (R)"),
}

# ---------------------------------------------------------------- codes of the marts

DEDUCTION_SOURCES = {  # fct_window_deduction.source -> (zh, en) (SPEC v2 §4.6)
    "rating_signal": ("评价真实性疑点", "rating-integrity signals"),
    "absent_day": ("缺岗", "absent days"),
    "late": ("迟到早退", "late arrivals and early leaves"),
    "complaint": ("查实投诉", "substantiated complaints"),
    "inspection": ("明察暗访", "inspections"),
    "late_ack": ("督办逾期回告", "late supervision replies"),
}

ADJUST_HEAD = [("business_type", "业务类型", "Business type"), ("current_windows", "现有窗口", "Windows"),
               ("tickets", "取号数", "Tickets"), ("p90_wait_minutes", "90%等候（分钟）", "p90 wait (min)"),
               ("served_per_window_hour", "每窗口每小时办理", "Served per window-hour"),
               ("proposal", "建议", "Proposal"), ("evidence", "依据", "Evidence")]

COMPONENTS = {  # score component letter -> (zh, en)
    "T": ("按时办结率", "on-time rate"),
    "S": ("满意度", "satisfaction"),
    "D": ("纪律", "discipline"),
    "I": ("体外循环", "off-book integrity"),
    "R": ("差评整改率", "rectification rate"),
}

RULES = {  # rule id -> (zh, en): docs/rules.md
    "OB_BACKFILL": ("事后补录", "backfilled records"),
    "OB_INSTANT": ("秒办", "instant completion"),
    "OB_OFF_HOURS": ("非工作时间办件", "off-hours processing"),
    "OB_HANDOVER": ("私下收件", "private handover"),
    "OB_RUNAROUND": ("两头跑", "runaround"),
    "OB_VOLUME_GAP": ("应进未进", "volume gap"),
    "OB_REACCEPT": ("退件重收", "re-accepted after rejection"),
    "TL_LATE_NOTICE": ("补正告知逾期", "late notice to supplement"),
    "TL_REPEAT_NOTICE": ("多次补正", "repeated notice to supplement"),
    "TL_PAUSE_REASON": ("特别程序事由不符", "pause reason not allowed"),
    "TL_PAUSE_NO_REASON": ("特别程序未载明事由", "pause without a reason"),
    "TL_EXTENSION_REPEAT": ("重复延期", "repeated extension"),
    "TL_EXTENSION_CAP": ("延期超限", "extension over the cap"),
    "TL_EXTENSION_LATE": ("逾期延期", "extension after the deadline"),
    "TL_LEGAL_OVERDUE": ("超法定时限", "past the legal time limit"),
    "TL_STEP_OVERDUE": ("环节超时", "step overdue"),
    "TL_LATE_DELIVERY": ("送达超时", "late delivery"),
    "RI_BURST": ("集中评价", "burst of ratings"),
    "RI_NO_SERVICE": ("无服务评价", "rating without service"),
    "RI_OFF_HOURS": ("非服务时间评价", "rating outside service hours"),
    "RI_TOO_PERFECT": ("满意度异常", "implausibly perfect ratings"),
}

# veto kinds: (keywords in veto_reason, zh, en) — "{n}" is the number of flags / cases it lists
VETOES = [
    (("private_handover", "私下收件", "OB_HANDOVER"), "经视频确认的私下收件/递件 {n} 次", "private handover confirmed on video ({n})"),
    (("OB_BACKFILL", "补录"), "当月受理办件存在事后补录 {n} 件", "backfilled records on cases accepted this month ({n})"),
]

CJK = re.compile(r"[\u3400-\u9fff]")
RULE_ID = re.compile(r"\b[A-Z]{2}_[A-Z_]+\b")


def tr(key: str, lang: str, **kw: Any) -> str:
    return TEXT[key][lang].format(**kw)


def _count(segment: str) -> int | None:
    """Items of the evidence list after the segment's colon ("…: F7 2025-10-09 10:00:00, F8 …")."""
    if ":" not in segment and "：" not in segment:
        return None
    tail = re.split(r"[:：]", segment, maxsplit=1)[1].strip()
    return len([x for x in re.split(r"\s*[,，]\s*", tail) if x]) if tail else None


def veto_text(reason: str | None, lang: str = "zh") -> str | None:
    """The veto reason in words: one phrase per kind of veto the stored reason names."""
    if not reason:
        return None
    out = []
    for segment in re.split(r"[;；]", reason):
        for keys, zh, en in VETOES:
            if any(k in segment for k in keys):
                n = _count(segment)
                text = zh if lang == "zh" else en
                if n is None:
                    text = re.sub(r"\s*\(?\{n\}\)?\s*(次|件)?", "", text)
                out.append(text.format(n=n))
                break
        else:
            out.append(rule_names(segment, lang))
    out = [x for x in dict.fromkeys(out) if x]
    if not out:
        return "一票否决事项" if lang == "zh" else reason
    return tr("sep", lang).join(out)


def rule_names(text: str, lang: str = "zh") -> str:
    """Text with every rule id replaced by its name; in Chinese, the English words left out."""
    i = 0 if lang == "zh" else 1
    named = RULE_ID.sub(lambda m: RULES.get(m.group(0), ("违规事项", m.group(0)))[i], text)
    if lang == "zh":
        named = re.sub(r"[A-Za-z][A-Za-z_\-]*[A-Za-z]", "", named)
        named = re.sub(r"\s+", " ", named).strip(" :：;；,，")
        return named if CJK.search(named) else ""
    return named


def score_note_text(note: str | None, lang: str = "zh") -> str | None:
    """`S_left_out;R_left_out` → 满意度、差评整改率未计入得分（全中心当月无相应数据，其余权重按比例折算）."""
    if not note:
        return None
    left = [c for c in re.findall(r"\b([TSDIR])_left_out\b", note)]
    if left:
        i = 0 if lang == "zh" else 1
        names = tr("list_sep", lang).join(COMPONENTS[c][i] for c in dict.fromkeys(left))
        if lang == "zh":
            return f"{names}未计入得分（全中心当月无相应数据，其余权重按比例折算）"
        return f"{names} left out of the score (no such data in the whole centre this month; the other weights rescaled)"
    if lang == "zh":
        return rule_names(note, lang) or "部分评分项未计入得分"
    return note


# ---------------------------------------------------------------- the scoring file, for the data notes

SCORING_LABELS: dict[str, tuple[str, str]] = {
    "version": ("评分文件版本", "version"),
    "timeliness.yellow_workdays": ("黄牌预警：剩余工作日不超过", "yellow card: remaining working days at most"),
    "timeliness.supplement_notice_workdays": ("补正告知时限（工作日）", "notice to supplement within (working days)"),
    "timeliness.pause_reasons_allowed": ("准予中止计时的特别程序", "pause reasons allowed"),
    "timeliness.pause_without_reason": ("未载明事由的中止", "a pause without a reason"),
    "timeliness.max_extension_days": ("延期上限（日）", "extension cap (days)"),
    "timeliness.deliver_limit_workdays": ("送达时限（工作日）", "delivery limit (working days)"),
    "off_book.backfill_hours": ("补录：录入晚于发生（小时）", "backfill: recorded later than (hours)"),
    "off_book.instant_minutes": ("秒办：受理至办结少于（分钟）", "instant: accepted to completed within (minutes)"),
    "off_book.instant_min_promised_limit": ("秒办：承诺时限不少于（工作日）", "instant: promised limit at least (working days)"),
    "off_book.volume_gap_ratio": ("应进未进：自报件数超过受理件数的倍数", "volume gap: reported over recorded ratio"),
    "off_book.reaccept_days": ("退件重收：间隔（日）", "re-accepted within (days)"),
    "off_book.handover_minutes": ("私下收件：前后（分钟）", "private handover: within (minutes)"),
    "off_book.default_hall_hours.workday": ("默认大厅时间：工作日", "default hall hours: working days"),
    "off_book.default_hall_hours.non_workday": ("默认大厅时间：非工作日", "default hall hours: other days"),
    "satisfaction.prior_weight": ("满意度调整权重 m", "satisfaction prior weight m"),
    "satisfaction.rectify_workdays": ("差评整改时限（工作日）", "rectify bad reviews within (working days)"),
    "satisfaction.max_satisfaction_swing": ("好评率月度波动上限", "maximum monthly swing of the satisfaction rate"),
    "score.weights.T": ("权重：按时办结（T）", "weight T"),
    "score.weights.S": ("权重：满意度（S）", "weight S"),
    "score.weights.D": ("权重：纪律（D）", "weight D"),
    "score.weights.I": ("权重：体外循环（I）", "weight I"),
    "score.weights.R": ("权重：差评整改（R）", "weight R"),
    "score.discipline_penalty_per_flag": ("纪律：每次违规扣减", "discipline penalty per flag"),
    "score.off_book_penalty": ("体外循环扣减系数", "off-book penalty"),
    "score.min_completed_cases": ("参评最少办结件数", "minimum completed cases to be ranked"),
    "score.stars": ("星级分数线（五星至二星）", "star thresholds (five to two stars)"),
    "score.red_flag_share": ("红旗窗口比例", "red-flag share"),
    "score.red_flag_min_stars": ("红旗窗口最低星级", "red-flag minimum stars"),
    "score.bottom_share": ("末位窗口比例", "bottom share"),
    "supervision.ack_workdays": ("督办回告时限（工作日）", "supervision: reply within (working days)"),
    "supervision.fix_workdays": ("督办整改时限（工作日）", "supervision: rectify within (working days)"),
    "supervision.triggers.red_card": ("督办触发：红牌件", "supervision trigger: red card"),
    "supervision.triggers.legal_overdue": ("督办触发：超法定时限", "supervision trigger: past the legal limit"),
    "supervision.triggers.off_book": ("督办触发：体外循环疑点", "supervision trigger: off-book signal"),
    "supervision.triggers.timeliness": ("督办触发：时限合规疑点", "supervision trigger: timeliness signal"),
    "supervision.triggers.bad_review_late": ("督办触发：差评逾期未整改", "supervision trigger: bad review not rectified"),
    "supervision.triggers.video_flag": ("督办触发：视频违规", "supervision trigger: video flag"),
    "supervision.triggers.rating_integrity": ("督办触发：评价真实性信号", "supervision trigger: rating-integrity signal"),
    "supervision.triggers.substantiated_complaint": ("督办触发：查实投诉", "supervision trigger: substantiated complaint"),
}

# by the last key, wherever a section puts it (SPEC v2 §4.6 deductions, §4.9, §4.10)
LEAF_LABELS: dict[str, tuple[str, str]] = {
    "verify_workdays": ("差评核实时限（工作日）", "verify bad reviews within (working days)"),
    "callback_workdays": ("实名差评回访时限（工作日）", "call back real-name bad reviews within (working days)"),
    "ri_burst_count": ("集中评价：同一设备评价数不少于", "burst: ratings from one device at least"),
    "ri_burst_minutes": ("集中评价：时间窗（分钟）", "burst: within (minutes)"),
    "ri_service_minutes": ("无服务评价：前后无办件（分钟）", "rating without service: no event within (minutes)"),
    "ri_min_ratings": ("满意度异常：评价数不少于", "implausibly perfect: ratings at least"),
    "ri_p_value": ("满意度异常：概率阈值", "implausibly perfect: p below"),
    "deduct_rating_signal": ("扣分：评价真实性疑点（每条）", "deduction per rating-integrity signal"),
    "deduct_substantiated_complaint": ("扣分：查实投诉（每件）", "deduction per substantiated complaint"),
    "deduct_absent_day": ("扣分：窗口缺岗（每日）", "deduction per absent window-day"),
    "deduct_late": ("扣分：迟到早退（每次）", "deduction per late arrival or early leave"),
    "deduct_late_ack": ("扣分：督办逾期回告（每件）", "deduction per late supervision reply"),
    "late_grace_minutes": ("迟到早退宽限（分钟）", "late arrival grace (minutes)"),
    "queue_add_p90_minutes": ("窗口动态增减：增开窗口的90%等候时长（分钟）", "window adjustment: add when p90 wait over (minutes)"),
    "queue_merge_per_hour": ("窗口动态增减：撤并窗口的每窗口每小时办理量", "window adjustment: merge when served per window-hour under"),
    "queue_merge_p90_minutes": ("窗口动态增减：撤并窗口的90%等候时长（分钟）", "window adjustment: merge when p90 wait under (minutes)"),
    "spot_checks_per_day": ("一日三查：每个工作日视频抽查次数", "spot checks per centre and working day"),
}

SCORING_VALUES = {  # enum values of the scoring file -> zh
    "hearing": "听证", "tender": "招标", "auction": "拍卖", "inspection": "检验", "testing": "检测",
    "quarantine": "检疫", "appraisal": "鉴定", "expert_review": "专家评审", "survey": "勘查", "other": "其他",
    "count": "计入", "ignore": "不计入",
}


def _scoring_value(v: Any, lang: str) -> str:
    if v is None:
        return "不开放" if lang == "zh" else "closed"
    if isinstance(v, bool):
        return tr("yes" if v else "no", lang)
    if isinstance(v, dict) and {"open", "close"} <= set(v):
        return f"{str(v['open'])[:5]}–{str(v['close'])[:5]}"
    if isinstance(v, list):
        return tr("list_sep", lang).join(_scoring_value(x, lang) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, str) and lang == "zh":
        return SCORING_VALUES.get(v, v)
    return str(v)


def scoring_rows(scoring: dict[str, Any], lang: str = "zh") -> list[tuple[str, str, str]]:
    """(label, key, value) for every leaf of the scoring file, in the file's order."""
    out: list[tuple[str, str, str]] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict) and not (prefix in SCORING_LABELS or {"open", "close"} <= set(node)):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
            return
        label = SCORING_LABELS.get(prefix) or LEAF_LABELS.get(prefix.rsplit(".", 1)[-1], (prefix, prefix))
        label = label[0 if lang == "zh" else 1]
        out.append((label, prefix, _scoring_value(node, lang)))

    walk("", scoring)
    return out
