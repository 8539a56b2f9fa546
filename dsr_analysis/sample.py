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
        for _ in range(n):
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
        for _ in range(n_insp):
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


if __name__ == "__main__":  # pragma: no cover
    for p in write_sample():
        print(p)
