"""The embedded synthetic Xiong'an registers, and synthetic registers of any size.

Nothing here is real: names, codes and facts are drawn from fixed-seed random numbers with
shares taken from published figures (DOMAIN.md): credit classes as in the Hebei 2025 public
credit evaluation of 2.92 million firms (河北省2025年企业信用风险分类结果: A 4.24 %, B 92.05 %,
C 3.18 %, D 0.53 %; Xiong'an is in Hebei), about 8 % of firms on the positive list, about 6 %
key polluters, and the industries the three counties are known for. Every USCC carries a
valid check character (GB 32100-2015). ``python -m dsr_analysis.sample`` rewrites
``dsr_analysis/data/sample/``; a test checks the shipped files equal what it writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from stdnum.cn import uscc as stdnum_uscc

from .i18n import _
from .paths import SAMPLE_REGISTERS

SAMPLE_SEED = 20230101

#: Seed material of the demo draws: ``demo-{quarter}`` (fixed, so the demo is reproducible).
DEMO_SEED_MATERIAL = "demo-{quarter}"

#: Share of each credit class: Hebei 2025 public credit evaluation of 2.92 million firms
#: (河北省2025年企业信用风险分类结果): A 4.24 %, B 92.05 %, C 3.18 %, D 0.53 %.
CREDIT_SHARES = {"A": 0.0424, "B": 0.9205, "C": 0.0318, "D": 0.0053}

#: Relative risk of a penalty, a supervision order or complaints, by credit class.
_RISK_SCALE = {"A": 1.0, "B": 1.5, "C": 3.0, "D": 6.0}
_PENALTY_RATE = 0.022            # per A-class firm and year; x _RISK_SCALE for the others
#: Share of all firms on the positive list (only A/B firms not penalised are eligible).
POSITIVE_LIST_SHARE = 0.08


def _positive_list_rate() -> float:
    """Chance an eligible firm (A/B, not penalised) is on the positive list.

    Chosen so that about ``POSITIVE_LIST_SHARE`` of all firms end up on the list whatever
    the credit shares: the target divided by the expected share of eligible firms.
    """
    total = sum(CREDIT_SHARES.values())
    eligible = sum(CREDIT_SHARES[c] / total * (1 - _PENALTY_RATE * _RISK_SCALE[c])
                   for c in ("A", "B"))
    return POSITIVE_LIST_SHARE / eligible

UNITS = {
    # id: (name, administrative division code, number of enterprises, inspectors, industries)
    "xiongan": ("新区本级", "133100", 360, 48,
                ["污水处理及其再生利用", "危险废物治理", "火力发电和热电联产", "水泥制造",
                 "医疗机构", "生活垃圾处理"]),
    "xiongxian": ("雄县", "130638", 1050, 36,
                  ["塑料制品业", "包装装潢印刷", "压延加工", "电气机械和器材制造",
                   "橡胶制品业", "汽车修理与维护"]),
    "rongcheng": ("容城县", "130629", 800, 32,
                  ["服装制造", "纺织业", "食品制造", "家具制造", "畜禽养殖",
                   "汽车修理与维护"]),
    "anxin": ("安新县", "130632", 790, 34,
              ["制鞋业", "羽毛(绒)加工", "有色金属压延加工", "畜禽养殖", "食品制造",
               "汽车修理与维护"]),
}

_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建国志宏海峰晨宇浩然博文")
_WORDS = ["鑫达", "华宇", "恒信", "盛源", "宏利", "金泰", "永昌", "瑞丰", "天成", "新创", "博远",
          "众诚", "信达", "泰和", "隆兴", "德润", "嘉禾", "润通", "兴旺", "中科", "正阳", "安泰",
          "荣盛", "利民", "东方", "白洋", "易水", "大清", "白沟", "古城"]
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

BUSINESS_LINES = ["air", "water", "soil", "solid_waste", "radiation", "noise", "ecology",
                  "general_enforcement"]
LINE_SHARES = [0.24, 0.22, 0.08, 0.14, 0.05, 0.05, 0.07, 0.15]


def _org_code(digits: str) -> str:
    """Organisation code (GB 11714): 8 characters + check character."""
    total = sum(int(c) * w for c, w in zip(digits, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return digits + {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(division: str, serial: int) -> str:
    """A well-formed USCC for an enterprise (registration authority 9, type 1)."""
    body = "91" + division + _org_code(f"{serial:08d}")
    return body + stdnum_uscc.calc_check_digit(body)


def _name(rng: np.random.Generator) -> str:
    return str(rng.choice(_SURNAMES)) + "".join(rng.choice(_GIVEN, size=rng.integers(1, 3)))


def synthetic_enterprises(n: int, rng: np.random.Generator | int | None = None,
                          units: dict[str, float] | None = None) -> pd.DataFrame:
    """A synthetic enterprise register of any size, vectorised (no USCCs, integer ids).

    Used by the simulation for registers far larger than the sample. Columns are those of
    the enterprise register that decide categories and strata.

    Parameters
    ----------
    n : int
        Number of enterprises.
    rng : Generator or seed
    units : mapping, optional
        Unit id -> share of enterprises (default: the sample's shares).
    """
    rng = np.random.default_rng(rng)
    if units is None:
        total = sum(v[2] for v in UNITS.values())
        units = {k: v[2] / total for k, v in UNITS.items()}
    unit_ids = np.array(list(units))
    unit = unit_ids[rng.choice(len(unit_ids), size=n, p=np.array(list(units.values())))]
    return _attributes(rng, n, unit)


def _attributes(rng: np.random.Generator, n: int, unit: np.ndarray) -> pd.DataFrame:
    """The deciding columns of ``n`` synthetic enterprises of the given units (the draws of
    :func:`synthetic_enterprises` after the units, in its order)."""
    credit = np.array(list(CREDIT_SHARES))[
        rng.choice(4, size=n, p=np.array(list(CREDIT_SHARES.values())) / sum(CREDIT_SHARES.values()))]
    permit = np.array(["key", "simplified", "registration"])[
        rng.choice(3, size=n, p=[0.08, 0.27, 0.65])]
    key_polluter = np.where(permit == "key", rng.random(n) < 0.55, rng.random(n) < 0.015)
    risk_scale = np.select([credit == "D", credit == "C", credit == "B"],
                           [_RISK_SCALE["D"], _RISK_SCALE["C"], _RISK_SCALE["B"]], _RISK_SCALE["A"])
    penalised = rng.random(n) < _PENALTY_RATE * risk_scale
    order = rng.random(n) < 0.003 * risk_scale
    complaints = rng.poisson(0.12 * risk_scale)
    emergency = np.array(["none", "general", "larger", "major"])[
        rng.choice(4, size=n, p=[0.80, 0.15, 0.04, 0.01])]
    positive = (~penalised) & np.isin(credit, ["A", "B"]) & (rng.random(n) < _positive_list_rate())
    offsite = positive | (rng.random(n) < np.where(key_polluter, 0.7, 0.15))
    return pd.DataFrame({
        "uscc": np.arange(n).astype(str),
        "unit": unit,
        "permit_class": permit,
        "key_polluter": key_polluter,
        "positive_list": positive,
        "offsite_capable": offsite,
        "credit_class": credit,
        "penalised_last_year": penalised,
        "supervision_order_last_year": order,
        "complaints_last_year": complaints,
        "emergency_risk": emergency,
    })


def make_sample(seed: int = SAMPLE_SEED) -> dict[str, pd.DataFrame]:
    """Build the four sample registers (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    ent_parts, insp_parts = [], []
    serial = 10_000_000
    for uid, (uname, division, n, n_insp, industries) in UNITS.items():
        frame = synthetic_enterprises(n, rng, units={uid: 1.0})
        codes, names = [], []
        for _try in range(n):
            serial += int(rng.integers(1, 9000))
            codes.append(make_uscc(division, serial))
        industry = np.array(industries)[rng.choice(len(industries), size=n)]
        for ind in industry:
            prefix = "" if uid == "xiongan" else uname.replace("县", "")
            names.append(f"{prefix}{rng.choice(_WORDS)}{ind.replace('业', '')}有限公司")
        frame["uscc"] = codes
        frame["name"] = _dedupe(names)
        frame["industry"] = industry
        frame["town"] = [f"{uname}{'一二三四五六七八'[int(i)]}号片区" for i in rng.integers(0, 8, n)]
        ent_parts.append(frame)

        lines = np.array(BUSINESS_LINES)[rng.choice(8, size=n_insp, p=LINE_SHARES)]
        insp = pd.DataFrame({
            "inspector_id": [f"{division}-{i + 1:03d}" for i in range(n_insp)],
            "name": [_name(rng) for _ in range(n_insp)],
            "unit": uid,
            "business_line": lines,
            "expertise": [";".join(rng.choice(industries, size=2, replace=False))
                          for _ in range(n_insp)],
            "certified": rng.random(n_insp) < 0.95,
            "active": rng.random(n_insp) < 0.96,
        })
        conflicts = []
        for _row in range(n_insp):
            k = int(rng.choice([0, 0, 0, 0, 1, 1, 2]))
            conflicts.append(";".join(rng.choice(codes, size=k, replace=False)) if k else "")
        insp["conflicts"] = conflicts
        insp_parts.append(insp)

    ent = pd.concat(ent_parts, ignore_index=True)
    ent = ent[["uscc", "name", "unit", "industry", "town", "permit_class", "key_polluter",
               "positive_list", "offsite_capable", "credit_class", "penalised_last_year",
               "supervision_order_last_year", "complaints_last_year", "emergency_risk"]]
    inspectors = pd.concat(insp_parts, ignore_index=True)

    organisations = ["雄安新区生态环境监测站", "河北省生态环境科学研究院", "雄县生态环境监测站",
                     "容城县生态环境监测站", "安新县生态环境监测站", "河北大学环境科学系"]
    regions = ["雄安新区", "雄县", "容城县", "安新县"]
    all_industries = sorted({i for v in UNITS.values() for i in v[4]})
    experts = pd.DataFrame({
        "expert_id": [f"ZJ{i + 1:03d}" for i in range(30)],
        "name": [_name(rng) for _ in range(30)],
        "organisation": rng.choice(organisations, size=30),
        "region": rng.choice(regions, size=30),
        "industries": [";".join(rng.choice(all_industries, size=3, replace=False))
                       for _ in range(30)],
    })
    items = _items(rng, all_industries)
    return {"enterprises": ent, "inspectors": inspectors, "experts": experts, "items": items}


_ITEM_TEMPLATES = [
    ("排污许可制度执行情况的检查", "《排污许可管理条例》第三十四条", "air"),
    ("大气污染物排放情况的检查", "《中华人民共和国大气污染防治法》第二十九条", "air"),
    ("挥发性有机物污染防治情况的检查", "《中华人民共和国大气污染防治法》第四十五条", "air"),
    ("扬尘污染防治情况的检查", "《中华人民共和国大气污染防治法》第六十九条", "air"),
    ("自动监测设备运行情况的检查", "《污染源自动监控管理办法》第十五条", "air"),
    ("水污染物排放情况的检查", "《中华人民共和国水污染防治法》第三十条", "water"),
    ("污水处理设施运行情况的检查", "《城镇排水与污水处理条例》第四十一条", "water"),
    ("饮用水水源保护区环境管理的检查", "《中华人民共和国水污染防治法》第六十五条", "water"),
    ("白洋淀流域水污染防治的检查", "《白洋淀生态环境治理和保护条例》第四十条", "water"),
    ("土壤污染重点监管单位义务履行的检查", "《中华人民共和国土壤污染防治法》第二十一条", "soil"),
    ("建设用地土壤污染风险管控的检查", "《中华人民共和国土壤污染防治法》第五十九条", "soil"),
    ("危险废物规范化环境管理的检查", "《中华人民共和国固体废物污染环境防治法》第七十七条",
     "solid_waste"),
    ("一般工业固体废物管理的检查", "《中华人民共和国固体废物污染环境防治法》第三十六条",
     "solid_waste"),
    ("医疗废物处置情况的检查", "《医疗废物管理条例》第十六条", "solid_waste"),
    ("放射性同位素与射线装置安全的检查", "《放射性同位素与射线装置安全和防护条例》第四十二条",
     "radiation"),
    ("电磁辐射建设项目环境管理的检查", "《中华人民共和国环境影响评价法》第十六条", "radiation"),
    ("工业噪声污染防治的检查", "《中华人民共和国噪声污染防治法》第三十六条", "noise"),
    ("建筑施工噪声污染防治的检查", "《中华人民共和国噪声污染防治法》第四十条", "noise"),
    ("自然保护地生态环境保护的检查", "《自然保护区条例》第二十六条", "ecology"),
    ("建设项目环境影响评价制度执行情况的检查", "《中华人民共和国环境影响评价法》第二十五条",
     "general_enforcement"),
    ("建设项目环境保护“三同时”执行情况的检查", "《建设项目环境保护管理条例》第十五条",
     "general_enforcement"),
    ("突发环境事件应急预案管理的检查", "《突发环境事件应急管理办法》第十三条",
     "general_enforcement"),
    ("环境信息依法披露情况的检查", "《企业环境信息依法披露管理办法》第七条",
     "general_enforcement"),
]
_PARTNERS = [
    ("安全生产与危险化学品联合检查", "《危险化学品安全管理条例》第六条", "solid_waste", "应急管理局"),
    ("产品质量与环保标准联合检查", "《中华人民共和国产品质量法》第十五条", "air", "市场监督管理局"),
    ("建筑工地扬尘联合检查", "《中华人民共和国大气污染防治法》第六十九条", "air", "住房和城乡建设局"),
    ("畜禽养殖污染联合检查", "《畜禽规模养殖污染防治条例》第二十条", "water", "农业农村局"),
    ("医疗机构污水与废物联合检查", "《医疗废物管理条例》第三十九条", "solid_waste", "卫生健康局"),
    ("矿产资源开发生态保护联合检查", "《中华人民共和国矿产资源法》第三十二条", "ecology",
     "自然资源和规划局"),
    ("机动车维修行业联合检查", "《机动车维修管理规定》第二十七条", "air", "交通运输局"),
]


def _items(rng: np.random.Generator, industries: list[str]) -> pd.DataFrame:
    rows = []
    n = 0
    for name, basis, line in _ITEM_TEMPLATES:
        n += 1
        applies = "全部" if rng.random() < 0.6 else ";".join(
            rng.choice(industries, size=3, replace=False))
        rows.append((f"XA-SX-{n:03d}", name, basis, line, applies, "",
                     bool(rng.random() < 0.2)))
    for name, basis, line, dept in _PARTNERS:
        n += 1
        rows.append((f"XA-LH-{n:03d}", name, basis, line, "全部", dept, bool(rng.random() < 0.4)))
    # Pad to 40 items with variants per business line.
    while n < 40:
        name, basis, line = _ITEM_TEMPLATES[int(rng.integers(len(_ITEM_TEMPLATES)))]
        n += 1
        rows.append((f"XA-SX-{n:03d}", name.replace("的检查", "的专项检查"), basis, line,
                     ";".join(rng.choice(industries, size=2, replace=False)), "",
                     bool(rng.random() < 0.3)))
    return pd.DataFrame(rows, columns=["item_id", "name", "legal_basis", "business_line",
                                       "applies_to", "department", "needs_expert"])


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(name if k == 0 else name.replace("有限公司", f"{'二三四五六七八九十'[min(k - 1, 8)]}分公司"))
    return out


def write_sample(directory: Path = SAMPLE_REGISTERS, seed: int = SAMPLE_SEED) -> list[Path]:
    """Write the sample registers as UTF-8 CSV files (booleans as true/false)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in make_sample(seed).items():
        out = frame.copy()
        for col in out.columns:
            if out[col].dtype == bool:
                out[col] = out[col].map({True: "true", False: "false"})
        path = directory / f"{name}.csv"
        out.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


# --------------------------------------------------------------------------------------
# A synthetic national register: units as data at the scale of China
# --------------------------------------------------------------------------------------
#: Seed of the synthetic national register (units, enterprises, inspectors).
NATIONAL_SEED = 20220101
#: Fixed pollution sources in the national permit register (MEE 2022: over 3.3 million; the
#: synthetic register rounds up) and inspectors of the 2019 inspector registers (~46,000).
NATIONAL_ENTERPRISES = 3_500_000
NATIONAL_INSPECTORS = 46_000

#: Provinces: division code, name, short name, prefecture-level units, county-level units,
#: of which directly under the province (省直管), and a relative size of the province's
#: register. Counts of units approximate the administrative divisions (about 2,840
#: county-level units, 2022); sizes are synthetic, loosely following industrial output.
PROVINCES = [
    ("11", "北京市", "京", 1, 16, 0, 1.0), ("12", "天津市", "津", 1, 16, 0, 1.5),
    ("13", "河北省", "冀", 11, 167, 0, 5.5), ("14", "山西省", "晋", 11, 117, 0, 2.5),
    ("15", "内蒙古自治区", "蒙", 12, 103, 0, 2.0), ("21", "辽宁省", "辽", 14, 100, 0, 3.0),
    ("22", "吉林省", "吉", 9, 60, 0, 1.3), ("23", "黑龙江省", "黑", 13, 121, 0, 1.5),
    ("31", "上海市", "沪", 1, 16, 0, 1.8), ("32", "江苏省", "苏", 13, 95, 0, 9.0),
    ("33", "浙江省", "浙", 11, 90, 0, 9.0), ("34", "安徽省", "皖", 16, 104, 0, 3.5),
    ("35", "福建省", "闽", 9, 84, 0, 4.0), ("36", "江西省", "赣", 11, 100, 0, 2.5),
    ("37", "山东省", "鲁", 16, 136, 0, 8.0), ("41", "河南省", "豫", 17, 157, 1, 5.5),
    ("42", "湖北省", "鄂", 13, 103, 4, 3.5), ("43", "湖南省", "湘", 14, 122, 0, 3.5),
    ("44", "广东省", "粤", 21, 122, 0, 10.0), ("45", "广西壮族自治区", "桂", 14, 111, 0, 2.2),
    ("46", "海南省", "琼", 4, 25, 15, 0.5), ("50", "重庆市", "渝", 1, 38, 0, 2.0),
    ("51", "四川省", "川", 21, 183, 0, 4.0), ("52", "贵州省", "黔", 9, 88, 0, 1.6),
    ("53", "云南省", "滇", 16, 129, 0, 2.0), ("54", "西藏自治区", "藏", 7, 74, 0, 0.2),
    ("61", "陕西省", "陕", 10, 107, 0, 2.2), ("62", "甘肃省", "甘", 14, 86, 0, 1.2),
    ("63", "青海省", "青", 8, 44, 0, 0.4), ("64", "宁夏回族自治区", "宁", 5, 22, 0, 0.5),
    ("65", "新疆维吾尔自治区", "新", 14, 107, 10, 1.5),
]
#: Log-sd of the county sizes within a province (a few large industrial districts, many
#: small rural counties) and the share of a prefecture's objects it supervises itself (市本级).
COUNTY_SIZE_SIGMA = 0.9
CITY_OWN_SHARE = 0.05
#: Share of the inspectors at the prefecture level (the rest in the counties, in proportion
#: to objects^0.7, at least :data:`MIN_COUNTY_INSPECTORS` each).
CITY_INSPECTOR_SHARE = 0.2
MIN_COUNTY_INSPECTORS = 4
NATIONAL_INDUSTRIES = [
    ("金属制品业", 0.09), ("化学原料和化学制品制造", 0.07), ("非金属矿物制品业", 0.08),
    ("塑料制品业", 0.06), ("纺织业", 0.05), ("食品制造", 0.06), ("畜禽养殖", 0.07),
    ("汽车修理与维护", 0.07), ("印刷和记录媒介复制", 0.04), ("家具制造", 0.03),
    ("电气机械和器材制造", 0.05), ("医药制造", 0.03), ("污水处理及其再生利用", 0.05),
    ("火力发电和热电联产", 0.02), ("危险废物治理", 0.02), ("医疗机构", 0.06),
    ("木材加工", 0.03), ("橡胶制品业", 0.02), ("黑色金属冶炼和压延加工", 0.02),
    ("有色金属冶炼和压延加工", 0.02), ("造纸和纸制品业", 0.02), ("水泥制造", 0.02),
]
ENTERPRISE_COLUMNS = ["uscc", "name", "unit", "industry", "town", "permit_class",
                      "key_polluter", "positive_list", "offsite_capable", "credit_class",
                      "penalised_last_year", "supervision_order_last_year",
                      "complaints_last_year", "emergency_risk"]
INSPECTOR_COLUMNS = ["inspector_id", "name", "unit", "business_line", "expertise",
                     "certified", "active", "conflicts"]
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)])


def national_units(seed: int = NATIONAL_SEED) -> pd.DataFrame:
    """The synthetic national unit table: 31 provinces, their prefecture-level units and
    about 2,840 county-level units (some directly under their province), with division
    codes and a synthetic size weight per county.

    Columns ``id, name, level (province/city/county), parent, authority, division,
    weight``; ids are ``p{PP}``, ``m{PPCC}`` and ``c{PPCCDD}`` after the synthetic
    division code. Deterministic for a seed (the seed sets the county weights)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    rows = []
    for code, name, short, n_city, n_county, n_direct, size in PROVINCES:
        municipality = name.endswith("市") and n_city == 1
        rows.append((f"p{code}", name, "province", "", f"{name}生态环境厅" if not municipality
                     else f"{name}生态环境局", f"{code}0000", 0.0))
        n_under = n_county - n_direct
        per_city = np.full(n_city, n_under // n_city)
        per_city[:n_under % n_city] += 1
        w = rng.lognormal(0.0, COUNTY_SIZE_SIGMA, n_county)
        w = w / w.sum() * size
        k = 0
        for c in range(n_city):
            ccode = f"{code}{c + 1:02d}"
            cname = name if municipality else f"{short}{c + 1:02d}市"
            city_w = w[k:k + per_city[c]].sum()
            rows.append((f"m{ccode}", cname, "city", f"p{code}", f"{cname}生态环境局",
                         f"{ccode}00", city_w * CITY_OWN_SHARE / (1 - CITY_OWN_SHARE)))
            for d in range(per_city[c]):
                dcode = f"{ccode}{d + 1:02d}"
                dname = f"{cname}{d + 1:02d}{'区' if municipality else '县'}"
                rows.append((f"c{dcode}", dname, "county", f"m{ccode}", "", dcode, w[k]))
                k += 1
        for d in range(n_direct):  # 省直管县: county-level units directly under the province
            dcode = f"{code}90{d + 1:02d}"
            dname = f"{short}直管{d + 1:02d}县"
            rows.append((f"c{dcode}", dname, "county", f"p{code}", "", dcode, w[k]))
            k += 1
    return pd.DataFrame(rows, columns=["id", "name", "level", "parent", "authority",
                                       "division", "weight"])


def _largest_remainder(weights: np.ndarray, total: int, minimum: int = 0) -> np.ndarray:
    """Whole numbers in proportion to ``weights`` summing to ``total`` (each at least
    ``minimum`` where the weight is positive)."""
    w = np.asarray(weights, dtype=float)
    minimum = min(minimum, total // max(1, int((w > 0).sum())))
    base = np.where(w > 0, minimum, 0)
    rest = total - int(base.sum())
    exact = w / w.sum() * rest
    out = np.floor(exact).astype(np.int64)
    short = rest - int(out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out + base


def _check_chars(bodies: np.ndarray, alphabet: str, weights: np.ndarray, modulus: int
                 ) -> np.ndarray:
    """Check characters of fixed-width ASCII ``bodies`` (``S`` array), vectorised."""
    codes = np.frombuffer(bodies.tobytes(), dtype=np.uint8).reshape(len(bodies), -1)
    lut = np.full(256, -1, dtype=np.int64)
    for i, ch in enumerate(alphabet):
        lut[ord(ch)] = i
    total = (lut[codes] * weights[None, :]).sum(axis=1)
    return total


def national_usccs(division: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Well-formed USCCs (GB 32100-2015, registration authority 9, type 1) on the given
    6-digit division codes with 8-digit organisation serials (GB 11714 check character),
    vectorised: the same codes :func:`make_uscc` writes one at a time."""
    digits = np.char.zfill(np.asarray(serial).astype(str), 8).astype("S8")
    org_total = _check_chars(digits, "0123456789", np.array(_ORG_WEIGHTS), 11)
    org_check = 11 - org_total % 11
    org_char = np.where(org_check == 10, b"X", np.where(
        org_check == 11, b"0", np.char.mod(b"%d", org_check).astype("S1"))).astype("S1")
    body = np.char.add(np.char.add(b"91", np.asarray(division).astype("S6")),
                       np.char.add(digits, org_char)).astype("S17")
    total = _check_chars(body, _USCC_ALPHABET, _USCC_WEIGHTS, 31)
    check = (31 - total % 31) % 31
    alphabet = np.frombuffer(_USCC_ALPHABET.encode(), dtype="S1")
    return np.char.add(body, alphabet[check]).astype("U18")


def national_registers(enterprises: int = NATIONAL_ENTERPRISES, inspectors: int | None = None,
                       seed: int = NATIONAL_SEED, within: str | None = None
                       ) -> dict[str, pd.DataFrame]:
    """A reproducible synthetic national register: ``units`` (:func:`national_units`),
    ``enterprises`` (the enterprise register's columns, ``enterprises`` rows over the
    counties in proportion to their synthetic sizes, :data:`CITY_OWN_SHARE` supervised by
    the prefecture itself) and ``inspectors`` (``inspectors`` rows: prefecture level
    :data:`CITY_INSPECTOR_SHARE`, counties in proportion to objects^0.7, at least
    :data:`MIN_COUNTY_INSPECTORS` each where the total allows; default
    :data:`NATIONAL_INSPECTORS` x ``enterprises`` / :data:`NATIONAL_ENTERPRISES`, i.e.
    46,000 for the full 3.5 million).

    ``within`` keeps one province's or prefecture's units: exactly the rows the national
    register holds for them (each province has its own random streams, so a province is
    made without the rest of the country). Nothing in it is real; shares as :func:`synthetic_enterprises`
    (the Hebei 2025 credit classes, about 8 % on the positive list, 6 % key polluters).
    Deterministic for a seed: the same call gives the same frames, row for row.
    """
    if inspectors is None:
        inspectors = int(round(NATIONAL_INSPECTORS * enterprises / NATIONAL_ENTERPRISES))
    units = national_units(seed)
    weight = units["weight"].to_numpy()
    n_per_unit = _largest_remainder(weight, enterprises)
    insp_w = np.where(units["level"] == "city", weight / CITY_OWN_SHARE * CITY_INSPECTOR_SHARE,
                      np.where(units["level"] == "county", weight ** 0.7, 0.0))
    county = (units["level"] == "county").to_numpy()
    n_city = int(round(inspectors * CITY_INSPECTOR_SHARE))
    insp_n = np.zeros(len(units), dtype=np.int64)
    insp_n[~county & (weight > 0)] = _largest_remainder(insp_w[~county & (weight > 0)], n_city)
    insp_n[county] = _largest_remainder(np.maximum(n_per_unit[county], 1) ** 0.7,
                                        inspectors - n_city, MIN_COUNTY_INSPECTORS)
    serial0 = np.concatenate([[0], np.cumsum(n_per_unit)[:-1]]) + 10_000_000
    province = units["id"].where(units["level"] == "province", None).ffill().to_numpy()
    keep = _subtree(units, within) if within else np.ones(len(units), dtype=bool)
    parts_e, parts_i = [], []
    for k, code in enumerate(p[0] for p in PROVINCES):
        in_p = (province == f"p{code}") & keep
        if not in_p.any():
            continue
        ss = np.random.SeedSequence([seed, 2, k])  # one stream per province: a province
        rng_e, rng_i = (np.random.default_rng(x) for x in ss.spawn(2))  # is the same alone
        part = units[province == f"p{code}"]
        sel = in_p[province == f"p{code}"]
        e, i = _province_registers(part, n_per_unit[province == f"p{code}"],
                                   insp_n[province == f"p{code}"],
                                   serial0[province == f"p{code}"], rng_e, rng_i)
        parts_e.append(e[e["unit"].isin(part["id"][sel])])
        parts_i.append(i[i["unit"].isin(part["id"][sel])])
    ent = pd.concat([x for x in parts_e if len(x)] or parts_e[:1], ignore_index=True)
    insp = pd.concat([x for x in parts_i if len(x)] or parts_i[:1], ignore_index=True)
    for frame in (ent, insp):
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = pd.array(frame[col].to_numpy().astype(str), dtype="str")
    return {"units": units[keep].drop(columns="weight").reset_index(drop=True),
            "enterprises": ent, "inspectors": insp}


def _province_registers(units: pd.DataFrame, n_per_unit: np.ndarray, insp_n: np.ndarray,
                        serial0: np.ndarray, rng_e: np.random.Generator,
                        rng_i: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Enterprises and inspectors of one province's units (its own streams)."""
    n = int(n_per_unit.sum())
    idx = np.repeat(np.arange(len(units)), n_per_unit)
    ids = units["id"].to_numpy().astype(object)
    inds = np.array([i for i, _ in NATIONAL_INDUSTRIES])
    ent = _attributes(rng_e, n, ids[idx])
    if n:
        serial = np.repeat(serial0, n_per_unit) + (np.arange(n) - np.repeat(
            np.concatenate([[0], np.cumsum(n_per_unit)[:-1]]), n_per_unit))
        ent["uscc"] = national_usccs(units["division"].to_numpy()[idx], serial)
        names = units["name"].to_numpy().astype(str)
        p_ind = np.array([w for _, w in NATIONAL_INDUSTRIES])
        ind = rng_e.choice(len(inds), size=n, p=p_ind / p_ind.sum())
        word = rng_e.integers(0, len(_WORDS), n)
        town = rng_e.integers(0, 8, n)
        short = np.char.replace(np.char.replace(names, "县", ""), "区", "")
        ent["name"] = np.char.add(np.char.add(short[idx], np.array(_WORDS)[word]),
                                  np.char.add(np.char.replace(inds[ind], "业", ""), "有限公司"))
        ent["industry"] = inds[ind]
        ent["town"] = np.char.add(names[idx], np.array(
            [f"{c}号片区" for c in "一二三四五六七八"])[town])
    else:
        ent = ent.assign(name="", industry="", town="")
    ent = ent[ENTERPRISE_COLUMNS]
    m = int(insp_n.sum())
    if m == 0:
        return ent, pd.DataFrame({c: pd.Series(dtype=object) for c in INSPECTOR_COLUMNS})
    iidx = np.repeat(np.arange(len(units)), insp_n)
    first = np.concatenate([[0], np.cumsum(insp_n)[:-1]])
    seq = np.arange(m) - np.repeat(first, insp_n) + 1
    lines = np.array(BUSINESS_LINES)[rng_i.choice(len(BUSINESS_LINES), size=m, p=LINE_SHARES)]
    sur = np.array(_SURNAMES)[rng_i.integers(0, len(_SURNAMES), m)]
    given = np.char.add(np.array(_GIVEN)[rng_i.integers(0, len(_GIVEN), m)],
                        np.where(rng_i.random(m) < 0.5, "",
                                 np.array(_GIVEN)[rng_i.integers(0, len(_GIVEN), m)]))
    exp = rng_i.integers(0, len(inds), (m, 2))
    exp[:, 1] = np.where(exp[:, 1] == exp[:, 0], (exp[:, 0] + 1) % len(inds), exp[:, 1])
    insp = pd.DataFrame({
        "inspector_id": np.char.add(np.char.add(units["division"].to_numpy().astype(str)[iidx],
                                                "-"), np.char.zfill(seq.astype(str), 4)),
        "name": np.char.add(sur, given),
        "unit": ids[iidx],
        "business_line": lines,
        "expertise": np.char.add(np.char.add(inds[exp[:, 0]], ";"), inds[exp[:, 1]]),
        "certified": rng_i.random(m) < 0.95,
        "active": rng_i.random(m) < 0.96,
        "conflicts": "",
    })
    return ent, insp


def _subtree(units: pd.DataFrame, root: str) -> np.ndarray:
    """Bool mask of ``root`` and every unit under it."""
    ids = units["id"].to_numpy()
    if root not in set(ids):
        raise ValueError(_("within: unknown unit {unit}").format(unit=repr(root)))
    parent = dict(zip(ids, units["parent"].to_numpy(), strict=True))
    keep = np.zeros(len(ids), dtype=bool)
    for i, u in enumerate(ids):
        v = u
        while v:
            if v == root:
                keep[i] = True
                break
            v = parent.get(v, "")
    return keep


if __name__ == "__main__":  # pragma: no cover
    for p in write_sample():
        print(p)
