"""Reference data of a synthetic centre: departments, windows, items, staff, inspectors, hours.

Everything is drawn from the centre's own numpy stream, so the same seed gives the same hall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from windowwatch.generate import people
from windowwatch.generate.scales import Scale

# (department name, typical items) — the first ones are the busiest departments of a hall.
DEPARTMENTS: list[tuple[str, list[str]]] = [
    ("市场监管局", ["企业设立登记", "企业变更登记", "食品经营许可", "个体工商户登记", "企业注销登记", "药品零售许可"]),
    ("人社局", ["社会保障卡申领", "失业登记", "就业创业证申领", "养老保险关系转移", "职业资格证书补办"]),
    ("公安局出入境", ["出入境证件申领", "往来港澳通行证签注", "护照换发"]),
    ("不动产登记中心", ["不动产首次登记", "不动产转移登记", "抵押权登记", "不动产权证补发", "查封登记"]),
    ("税务局", ["发票领用", "税务登记信息变更", "个税汇算咨询", "增值税申报"]),
    ("公积金中心", ["住房公积金提取", "公积金贷款申请", "公积金账户转移"]),
    ("医保局", ["医保关系转移", "异地就医备案", "医保参保登记", "门诊慢特病认定"]),
    ("卫健委", ["医师执业注册", "出生医学证明补发", "公共场所卫生许可"]),
    ("交通运输局", ["道路运输经营许可", "从业资格证办理", "网约车驾驶员证"]),
    ("住建局", ["建筑工程施工许可", "商品房预售许可", "建筑业企业资质"]),
    ("自然资源局", ["建设用地规划许可", "建设工程规划许可"]),
    ("民政局", ["婚姻登记", "社会团体登记", "最低生活保障申请"]),
    ("公安局户政", ["户口迁移", "居民身份证申领", "居住证办理"]),
    ("公安局交管", ["机动车登记", "驾驶证换证", "违法处理"]),
    ("生态环境局", ["环境影响评价审批", "排污许可"]),
    ("水务局", ["取水许可", "排水许可"]),
    ("文旅局", ["娱乐场所经营许可", "旅行社设立许可"]),
    ("教育局", ["民办学校办学许可", "教师资格认定"]),
    ("商务局", ["对外贸易经营者备案", "单用途预付卡备案"]),
    ("农业农村局", ["农药经营许可", "兽药经营许可"]),
    ("应急管理局", ["危险化学品经营许可", "烟花爆竹经营许可"]),
    ("司法局", ["法律援助申请", "公证咨询"]),
    ("城管局", ["城市道路占用许可", "户外广告设置许可"]),
    ("发改委", ["企业投资项目备案", "固定资产投资项目核准"]),
    ("档案馆", ["档案查询利用"]),
    ("残联", ["残疾人证办理"]),
    ("退役军人事务局", ["优待证申领", "退役军人信息采集"]),
    ("人防办", ["人防工程审批"]),
    ("气象局", ["防雷装置设计审核"]),
    ("烟草专卖局", ["烟草专卖零售许可"]),
    ("供电公司", ["居民用电报装", "电费业务办理"]),
    ("水务集团", ["居民用水报装", "水费业务办理"]),
    ("燃气公司", ["燃气开户", "燃气过户"]),
    ("电信公司", ["宽带报装"]),
    ("邮政", ["证照寄递"]),
    ("银行服务", ["开户服务", "代缴费业务"]),
    ("统计局", ["统计调查项目审批"]),
    ("林业局", ["林木采伐许可"]),
    ("粮食和物资储备局", ["粮食收购备案"]),
    ("科技局", ["高新技术企业认定"]),
]
PUBLIC_SERVICE = {"供电公司", "水务集团", "燃气公司", "电信公司", "邮政", "银行服务"}
CENTER_CODES = ["370100", "370200", "370300", "370600", "370700", "370800", "370900", "371000"]
CENTER_NAMES = ["济南市", "青岛市", "淄博市", "烟台市", "潍坊市", "济宁市", "泰安市", "威海市"]
KIND_LABEL = {"comprehensive": "综合", "specialized": "专业", "immediate": "即办", "public_service": "公共服务"}


@dataclass
class Centre:
    center_id: str
    center_name: str
    departments: pl.DataFrame  # department_id, department_name
    windows: pl.DataFrame  # windows feed columns + weight, weekend (bool)
    items: pl.DataFrame  # items feed columns + weight
    staff: pl.DataFrame
    inspectors: pl.DataFrame
    # numpy views used by the case generator
    window_ids: np.ndarray
    window_dept: np.ndarray
    window_weight: np.ndarray
    weekend_window: int  # index into window_ids
    window_items: list[np.ndarray]  # per window: item indexes it serves
    window_item_p: list[np.ndarray]
    window_staff: list[np.ndarray]
    item_codes: np.ndarray
    item_promised: np.ndarray  # bool
    item_limit: np.ndarray  # promised_limit (0 for immediate)
    item_calendar: np.ndarray  # bool: limit in calendar days
    item_fee: np.ndarray  # fee amount (0 = no fee)
    item_legal: np.ndarray  # legal_limit
    item_max_ext: np.ndarray  # max_extension_days (-1 = the scoring file's default)
    item_deliver: np.ndarray  # deliver_limit (-1 = the scoring file's default)
    item_mode: np.ndarray  # approval_mode, canonical (standard / commitment / tolerance)
    step_limits: pl.DataFrame  # the step_limits feed rows of this centre: item_code ('*' = every item), from, to, limit


def build_centre(scale: Scale, c: int, rng: np.random.Generator) -> Centre:
    code = CENTER_CODES[c % len(CENTER_CODES)]
    center_id = f"C{code}"
    center_name = f"{CENTER_NAMES[c % len(CENTER_NAMES)]}政务服务中心" if scale.name != "small" else "历城区政务服务中心"
    depts = DEPARTMENTS[: scale.departments]
    dept_ids = [f"{code}D{i + 1:02d}" for i in range(len(depts))]

    # items: each department's own names, padded with numbered variants
    rows = []
    for d, ((dname, names), did) in enumerate(zip(depts, dept_ids)):
        n_items = max(2, min(scale.items_per_department, len(names) * 3))
        for k in range(n_items):
            base = names[k % len(names)]
            name = base if k < len(names) else f"{base}（{['延续', '补证', '变更', '注销'][k // len(names) % 4]}）"
            immediate = rng.random() < 0.5 or dname in PUBLIC_SERVICE
            calendar = (not immediate) and rng.random() < 0.2
            if immediate:
                limit = 0
            elif calendar:
                limit = int(rng.choice([5, 7, 10, 15, 20, 30, 45, 60]))
            else:
                limit = int(rng.choice([1, 2, 3, 3, 5, 5, 7, 10, 15, 20]))
            # the statutory limit is at least the promised one with room (承诺时限 compresses 法定时限): normal
            # and merely late cases stay inside it, so TL_LEGAL_OVERDUE is only the injected ones (and stalled)
            legal = limit if immediate else int(max(30 if calendar else 20, limit * rng.choice([2, 3])))
            fee = float(rng.choice([0, 0, 0, 10, 20, 50])) if not immediate else 0.0
            # v2 optional limits: some items carry their own extension cap (never below the scoring
            # file's 10, so a normal 5- or 10-day extension is within it), delivery limit, approval mode
            u = rng.random(3)
            max_ext = int(rng.choice([10, 15, 20])) if (not immediate and u[0] < 0.3) else None
            deliver = int(rng.choice([5, 7, 10, 15])) if (not immediate and u[1] < 0.3) else None
            mode = (str(rng.choice(["commitment", "告知承诺", "tolerance", "容缺受理"])) if u[2] < 0.12
                    else str(rng.choice(["standard", "一般"])) if u[2] < 0.3 else None)
            rows.append(
                {
                    "item_code": f"{code}{d + 1:02d}{k + 1:03d}",
                    "item_name": name,
                    "department_id": did,
                    "item_kind": "immediate" if immediate else "promised",
                    "legal_limit": legal,
                    "promised_limit": limit,
                    "limit_unit": "calendar_day" if calendar else "workday",
                    "fee_required": fee > 0,
                    "max_extension_days": max_ext,
                    "deliver_limit": deliver,
                    "approval_mode": mode,
                    "weight": float(rng.pareto(1.5) + 0.2),
                    "fee": fee,
                }
            )
    # every department needs a promised item with limit >= 3 in workdays (OB_INSTANT, overdue)
    items = pl.DataFrame(rows, schema_overrides={"max_extension_days": pl.Int64, "deliver_limit": pl.Int64,
                                                 "approval_mode": pl.String})
    for did in dept_ids:
        sub = items.filter((pl.col("department_id") == did) & (pl.col("item_kind") == "promised")
                           & (pl.col("limit_unit") == "workday") & (pl.col("promised_limit") >= 3))
        if sub.height == 0:
            first = items.filter(pl.col("department_id") == did)["item_code"][0]
            items = items.with_columns(
                pl.when(pl.col("item_code") == first).then(pl.lit("promised")).otherwise(pl.col("item_kind")).alias("item_kind"),
                pl.when(pl.col("item_code") == first).then(5).otherwise(pl.col("promised_limit")).alias("promised_limit"),
                pl.when(pl.col("item_code") == first).then(20).otherwise(pl.col("legal_limit")).alias("legal_limit"),
                pl.when(pl.col("item_code") == first).then(pl.lit("workday")).otherwise(pl.col("limit_unit")).alias("limit_unit"),
                pl.when(pl.col("item_code") == first).then(None).otherwise(pl.col("approval_mode"))
                .alias("approval_mode"),
            )

    # windows: departments get windows in proportion to their (Zipf) volume; one per department at least
    n_win = scale.windows
    dept_w = 1.0 / np.arange(1, len(depts) + 1) ** 0.8
    extra = n_win - len(depts)
    alloc = np.ones(len(depts), dtype=int) + np.floor(extra * dept_w / dept_w.sum()).astype(int)
    alloc[: n_win - alloc.sum()] += 1
    wrows = []
    for d, ((dname, _), did) in enumerate(zip(depts, dept_ids)):
        for j in range(alloc[d]):
            if dname in PUBLIC_SERVICE:
                kind = "public_service"
            elif j == 0 and alloc[d] >= 3:
                kind = "immediate"
            elif j == 1 and alloc[d] >= 4:
                kind = "comprehensive"
            else:
                kind = "specialized"
            wrows.append((did, dname, kind, j))
    wrows = wrows[:n_win]
    windows = pl.DataFrame(
        {
            "window_id": [f"{code}W{i + 1:03d}" for i in range(len(wrows))],
            "window_name": [f"{i + 1}号窗口（{dn}{KIND_LABEL[k]}）" for i, (_, dn, k, _) in enumerate(wrows)],
            "department_id": [r[0] for r in wrows],
            "department_name": [r[1] for r in wrows],
            "center_id": center_id,
            "center_name": center_name,
            "window_kind": [r[2] for r in wrows],
            "opened_on": "2019-06-01",
            "closed_on": None,
        },
        schema_overrides={"closed_on": pl.String},
    )
    # the weekend/extended-hours window: the comprehensive (or first) window of the busiest department
    kinds = windows["window_kind"].to_list()
    weekend = kinds.index("comprehensive") if "comprehensive" in kinds else 0
    windows = windows.with_columns(
        pl.when(pl.int_range(pl.len()) == weekend)
        .then(pl.col("window_name").str.replace("）", "·周末延时）"))
        .otherwise(pl.col("window_name"))
        .alias("window_name")
    )

    window_ids = windows["window_id"].to_numpy()
    window_dept = windows["department_id"].to_numpy()
    # window popularity: busier departments have busier windows (arrivals split by this weight)
    dept_rank = {did: i for i, did in enumerate(dept_ids)}
    window_weight = np.array([dept_w[dept_rank[d]] / alloc[dept_rank[d]] for d in window_dept]) * rng.uniform(0.7, 1.3, len(window_ids))
    window_weight /= window_weight.sum()

    item_codes = items["item_code"].to_numpy()
    item_dept = items["department_id"].to_numpy()
    item_promised = (items["item_kind"] == "promised").to_numpy()
    item_weight = items["weight"].to_numpy()
    window_items, window_item_p = [], []
    for wi, kind in enumerate(kinds):
        mask = item_dept == window_dept[wi]
        if kind == "immediate" and np.any(mask & ~item_promised):
            mask &= ~item_promised
        idx = np.flatnonzero(mask)
        p = item_weight[idx] / item_weight[idx].sum()
        window_items.append(idx)
        window_item_p.append(p)

    # staff: 2–3 per window (shifts) handle the cases; ~1 in 10 windows also lists a former
    # colleague who left before the period (active_to set, never on a case)
    srows = []
    for wi, wid in enumerate(window_ids):
        k = int(rng.integers(2, 4))
        for s in range(k):
            srows.append((f"{wid}S{s + 1}", wid, window_dept[wi], "2020-03-01", None))
        if rng.random() < 0.1:
            srows.append((f"{wid}S{k + 1}", wid, window_dept[wi], "2017-09-01", "2024-12-31"))
    snames = people.names(rng, len(srows))
    staff = pl.DataFrame(
        {
            "staff_id": [r[0] for r in srows],
            "staff_name": snames.tolist(),
            "window_id": [r[1] for r in srows],
            "department_id": [r[2] for r in srows],
            "active_from": [r[3] for r in srows],
            "active_to": [r[4] for r in srows],
        },
        schema_overrides={"active_to": pl.String},
    )
    current = staff.filter(pl.col("active_to").is_null())
    window_staff = [current.filter(pl.col("window_id") == w)["staff_id"].to_numpy() for w in window_ids]

    # inspectors: from the departments plus the centre's own supervision office; ~8 % inactive
    n_insp = scale.inspectors
    ins_dept = np.array(dept_ids + [f"{code}D00"])[rng.integers(0, len(dept_ids) + 1, n_insp)]
    quals = np.array(["行政许可;窗口服务", "窗口服务", "行政许可;财务收费", "效能督查;窗口服务", "行政许可"])
    inspectors = pl.DataFrame(
        {
            "inspector_id": [f"{code}I{i + 1:04d}" for i in range(n_insp)],
            "inspector_name": people.names(rng, n_insp).tolist(),
            "department_id": ins_dept.tolist(),
            "qualifications": quals[rng.integers(0, len(quals), n_insp)].tolist(),
            "active": (rng.random(n_insp) > 0.08).tolist(),
        }
    )

    return Centre(
        center_id=center_id,
        center_name=center_name,
        departments=pl.DataFrame({"department_id": dept_ids, "department_name": [d[0] for d in depts]}),
        windows=windows,
        items=items,
        staff=staff,
        inspectors=inspectors,
        window_ids=window_ids,
        window_dept=window_dept,
        window_weight=window_weight,
        weekend_window=weekend,
        window_items=window_items,
        window_item_p=window_item_p,
        window_staff=window_staff,
        item_codes=item_codes,
        item_promised=item_promised,
        item_limit=items["promised_limit"].to_numpy().astype(np.int64),
        item_calendar=(items["limit_unit"] == "calendar_day").to_numpy(),
        item_fee=items["fee"].to_numpy(),
        item_legal=items["legal_limit"].to_numpy().astype(np.int64),
        item_max_ext=items["max_extension_days"].fill_null(-1).to_numpy().astype(np.int64),
        item_deliver=items["deliver_limit"].fill_null(-1).to_numpy().astype(np.int64),
        item_mode=items["approval_mode"].replace(MODE_CANON).fill_null("standard").to_numpy().astype(str),
        step_limits=_step_limits(items),
    )


MODE_CANON = {"告知承诺": "commitment", "容缺受理": "tolerance", "一般": "standard"}
# 环节时限: approve -> complete (办结 follows the decision) within 2 working days for every item; a few items
# set it to 1 and bound accept -> approve (审查决定) at their promised limit + 10 working days
STEP_DEFAULT = [("*", "approve", "complete", 2)]


def _step_limits(items: pl.DataFrame) -> pl.DataFrame:
    rows = list(STEP_DEFAULT)
    pool = items.filter((pl.col("item_kind") == "promised") & (pl.col("limit_unit") == "workday")
                        & (pl.col("promised_limit") >= 3)).sort("weight", descending=True).head(6)
    for code, limit in pool.select("item_code", "promised_limit").head(3).iter_rows():
        rows.append((code, "approve", "complete", 1))
        rows.append((code, "accept", "approve", int(limit) + 10))
    return pl.DataFrame(rows, schema={"item_code": pl.String, "from_event": pl.String, "to_event": pl.String,
                                      "limit_workdays": pl.Int64}, orient="row")


# Hall hours in seconds of the day. Centre default: workday 08:30–18:00, closed otherwise;
# the weekend/extended window: workday 08:30–20:00, non_workday 09:00–17:00.
CENTRE_WORKDAY = (8 * 3600 + 1800, 18 * 3600)
WEEKEND_WORKDAY = (8 * 3600 + 1800, 20 * 3600)
WEEKEND_NON_WORKDAY = (9 * 3600, 17 * 3600)


def hall_hours_frame(centres: list[Centre]) -> pl.DataFrame:
    rows = []
    for c in centres:
        rows.append((c.center_id, "workday", "08:30:00", "18:00:00"))
        w = c.window_ids[c.weekend_window]
        rows.append((w, "workday", "08:30:00", "20:00:00"))
        rows.append((w, "non_workday", "09:00:00", "17:00:00"))
    return pl.DataFrame(rows, schema=["scope_id", "day_kind", "open_time", "close_time"], orient="row")


def step_table(centre: Centre) -> dict[tuple[str, str], np.ndarray]:
    """(from_event, to_event) -> limit_workdays per item index (-1: no limit for that item); an item's own
    row wins over the `*` row of the same pair (SPEC §3 step_limits)."""
    out: dict[tuple[str, str], np.ndarray] = {}
    pos = {c: i for i, c in enumerate(centre.item_codes)}
    rows = centre.step_limits.sort(pl.col("item_code") != "*", descending=False)  # '*' first, items override
    for code, frm, to, limit in rows.iter_rows():
        arr = out.setdefault((frm, to), np.full(len(centre.item_codes), -1, dtype=np.int64))
        if code == "*":
            arr[:] = limit
        else:
            arr[pos[code]] = limit
    return out
