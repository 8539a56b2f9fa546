"""The public draw protocol: commit, draw, publish (format 3).

1. **Commit** (:func:`build_commitment`, ``dsr commit``) - before the randomness exists -
   fixes the digests of the enterprise frame, the policy file and the overlap history (the
   ledger's valid records the draw will depend on), the quota table with the inclusion
   probabilities per credit class, and *where the seed material will come from*: a named
   future public event (a welfare-lottery draw by issue number and date) or numbers rolled
   at a witnessed public meeting. It is a ledger entry (draw key ``commitment:{key}``) and
   the announcement (抽取公告) prints it with the ledger head. The announcement is issued by
   the bureau of the units it covers (:func:`issuer`) and dated by the commitment's ``date``
   (:func:`commitment_date`), never by the clock of the machine that renders it; a
   commitment stands only once its announcement is written in every form (staged before
   the entry is appended: :func:`dsr_analysis.draw.commit_quarter`).
2. **Draw** (:func:`check_commitment`) is refused unless the latest commitment for that
   quarter, draw key and units exists, has not been used by a draw, its announcement is
   there in every form, and its digests equal the current inputs. The seed material is brought to its canonical form
   (:func:`canonical_seed_material`) so that two parties typing it get the same seed. A
   re-draw needs a reason and a new commitment.
3. **Publish**: every public document prints the ledger head ``N:HASH``; ``dsr verify
   --head`` checks a ledger against it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..categories import CATEGORY_ZH
from ..errors import ProtocolError
from ..i18n import N_, _
from ..periods import Quarter, date_zh
from ..policy import Policy
from ..quotas import SUBSET_ZH
from .beacon import beacon_description, beacon_rule_text, commitment_beacon
from .ledger import COMMITMENT, Entry, head_of

#: Format 2 adds the commitment's ``date`` (the announcement's date), its ``issuer`` (the
#: bureau of the units it covers), the policy's ``unit_names`` and, per quota row, the
#: objects per credit class (``population_by_class``: an empty class shows "—"). Format 1
#: commitments still verify; their announcement is dated by the entry's ``created_at``.
COMMITMENT_FORMAT = "dsr-commitment/2"
COMMITMENT_FORMATS = ("dsr-commitment/1", COMMITMENT_FORMAT)
#: Forms of seed material: free text (a beacon value, a lottery result as printed) or
#: numbers (RFC 3797: groups of numbers, e.g. lottery balls or dice).
SEED_FORMS = ("text", "numbers")

_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                      r"\u2066-\u2069\ufeff]")


def canonical_seed_material(text: str, form: str = "text") -> str:
    """The canonical form of seed material.

    ``text``: Unicode NFKC (full-width digits and letters become ASCII), runs of white space
    become one space, leading and trailing space removed. ``numbers`` (RFC 3797, section
    3.2): groups separated by ``/`` (or ``;`` or a line break), numbers inside a group by
    any non-digit; each number in decimal without leading zeros followed by ``.``, the
    numbers of a group sorted ascending, each group closed by ``/`` - e.g. ``"07 12 3 /
    5,9"`` becomes ``"3.7.12./5.9./"``. Control, zero-width and bidirectional characters are
    refused, as is material without any content.
    """
    if form not in SEED_FORMS:
        raise ProtocolError(_("seed material form {form}: use one of {forms}").format(
            form=repr(form), forms=", ".join(SEED_FORMS)))
    raw = str(text)
    bad = _CONTROL.search(raw.replace("\n", " ").replace("\t", " ").replace("\r", " "))
    if bad:
        raise ProtocolError(_("seed material holds the invisible character U+{code:04X} at "
                              "position {position}: type it again").format(
                                  code=ord(bad.group()), position=bad.start() + 1))
    norm = unicodedata.normalize("NFKC", raw)
    if form == "text":
        out = " ".join(norm.split())
        if not out:
            raise ProtocolError(_("seed material is empty: supply the published value (e.g. a "
                                  "lottery result) with --seed-material"))
        return out
    groups = [g for g in re.split(r"[/;\n]", norm) if g.strip()]
    parts = []
    for i, g in enumerate(groups, 1):
        if re.search(r"[^\d\s,.\-、，]", g):
            raise ProtocolError(_("seed material group {i} ({group}): numbers only, separated "
                                  "by spaces or commas; groups by '/'").format(
                                      i=i, group=g.strip()[:40]))
        nums = sorted(int(x) for x in re.findall(r"\d+", g))
        parts.append("".join(f"{n}." for n in nums) + "/")
    if not parts:
        raise ProtocolError(_("seed material has no numbers: give the drawn numbers, groups "
                              "separated by '/'"))
    return "".join(parts)


def seed_of_sources(seed_source: Mapping[str, Any], seed_material: str | None,
                    beacon_round: Any = None) -> tuple[str, dict | None]:
    """The canonical seed material of a draw from what its commitment's ``seed_source``
    names, and the drand round's evidence (None without a beacon). The typed material
    (lottery, dice) is brought to its canonical form; the drand round is verified offline
    against the committed chain (:func:`dsr_analysis.draw.beacon.verify_round`) and its
    part appended (:func:`dsr_analysis.draw.beacon.combined_material`). A source the
    commitment names and the draw lacks, or one it does not name, is refused."""
    from .beacon import Round, combined_material, load_round, verify_round

    committed = seed_source.get("beacon")
    typed_named = bool(str(seed_source.get("description") or "").strip())
    given = seed_material is not None and str(seed_material).strip() != ""
    if typed_named and not given:
        raise ProtocolError(_("the commitment names the seed source '{source}': give its "
                              "published value with --seed-material").format(
                                  source=seed_source.get("description")))
    if given and not typed_named:
        raise ProtocolError(_("the commitment names only drand round {round} as the seed "
                              "source: --seed-material is not used (give the round with "
                              "--beacon-signature)").format(round=committed["round"]))
    if committed is not None and beacon_round is None:
        raise ProtocolError(_("the commitment names drand round {round} ({time} UTC): give the "
                              "round's signature with --beacon-signature HEX (and "
                              "--beacon-previous-signature HEX) or its JSON file").format(
                                  round=committed["round"], time=committed.get("time")))
    if committed is None and beacon_round is not None:
        raise ProtocolError(_("a drand round was given, but the commitment names no beacon: "
                              "the seed comes only from '{source}'").format(
                                  source=seed_source.get("description")))
    typed = canonical_seed_material(seed_material, seed_source["form"]) if typed_named else None
    evidence = None
    if committed is not None:
        supplied = beacon_round if isinstance(beacon_round, Round) else load_round(beacon_round)
        evidence = verify_round(committed, supplied)
    return combined_material(typed, evidence), evidence


def history_sha256(record_shas: Sequence[str]) -> str:
    """Digest of the overlap history: SHA-256 of the sorted record digests, one per line."""
    return hashlib.sha256("\n".join(sorted(record_shas)).encode()).hexdigest()


def quota_rows(quotas: pd.DataFrame) -> list[dict]:
    """The committed quota table: per stratum its unit, stratum, method, population, quota
    and inclusion probability per credit class."""
    rows = []
    for r in quotas.itertuples(index=False):
        rows.append({"unit": r.unit, "stratum": r.stratum, "method": r.method,
                     "population": int(r.population), "quota": int(r.quota),
                     "probability": {c: float(getattr(r, f"probability_{c}")) for c in "ABCD"},
                     "population_by_class": {c: int(getattr(r, f"population_{c}"))
                                             for c in "ABCD"}})
    return rows


def build_commitment(policy: Policy, quarter: Quarter, order: list[str], draw_key: str,
                     frame_sha: str, registers_files: Mapping[str, Mapping],
                     history_records: Sequence[str], quotas: pd.DataFrame,
                     seed_source: str, seed_form: str, ledger_head: str,
                     target: Mapping | None = None, campaign: str | None = None,
                     origin: str = "routine", reason: str | None = None,
                     date: dt.date | None = None, beacon: str | None = None) -> dict:
    """The commitment record (see the module docstring): ``date`` is the day it is published
    (default today; its announcement bears it), the issuer is :func:`issuer` of its units.
    ``beacon`` (``drand:ROUND``) names a drand round as a source of the seed material
    (:mod:`dsr_analysis.draw.beacon`), alone (``seed_source`` empty) or with it."""
    day = date or dt.date.today()
    drand = commitment_beacon(beacon, day) if beacon else None
    if not str(seed_source or "").strip() and drand is None:
        raise ProtocolError(_("--seed-source is empty: name the future public event the seed "
                              "material will come from (e.g. 中国福利彩票双色球第2023010期开奖号码，"
                              "2023-01-20), or the public meeting where dice will be rolled"))
    if seed_form not in SEED_FORMS:
        raise ProtocolError(_("--seed-form {form}: use one of {forms}").format(
            form=repr(seed_form), forms=", ".join(SEED_FORMS)))
    return {
        "format": COMMITMENT_FORMAT, "quarter": quarter.label,
        "draw_key": COMMITMENT + draw_key, "units": list(order),
        "date": day.isoformat(),
        "issuer": issuer(policy, order), "unit_names": dict(policy.unit_names),
        "seed_source": {"description": " ".join(str(seed_source or "").split()),
                        "form": seed_form, **({"beacon": drand} if drand else {})},
        "inputs": {"frame_sha256": frame_sha, "policy_id": policy.id,
                   "policy_sha256": policy.sha256,
                   "registers": {k: v["sha256"] for k, v in sorted(registers_files.items())},
                   "history_sha256": history_sha256(history_records),
                   "history_records": sorted(history_records),
                   "target": dict(target) if target else None,
                   "campaign": campaign if target else None, "origin": origin},
        "quotas": quota_rows(quotas),
        "ledger_head": ledger_head,
        "reason": reason or None,
    }


def issuer(policy: Policy, units: Sequence[str]) -> str:
    """The bureau that issues a commitment's announcement: the authority of its units when
    they share one (a county's draw: that county's bureau); otherwise - the area level with
    counties, or several counties in one draw - the new-area level's bureau, which organises
    a draw across bureaus."""
    names = {policy.authority(u) for u in units}
    return names.pop() if len(names) == 1 else policy.authority()


def commitment_date(value: dt.date | str | None, all_entries: Sequence[Entry],
                    today: dt.date | None = None) -> dt.date:
    """The date of a new commitment (``--date``; default today), checked: a date
    (``YYYY-MM-DD``), not after today (an announcement is dated when it is published, never
    in advance), and not before the date of the ledger's latest commitment (commitments are
    appended, and published, in ledger order)."""
    today = today or dt.date.today()
    if value is None or value == "":
        day = today
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ProtocolError(_("--date {value}: not a date; write YYYY-MM-DD (the day the "
                                  "announcement is published)").format(value=value)) from None
    if day > today:
        raise ProtocolError(_("--date {day} is after today ({today}): a commitment is dated the "
                              "day its announcement is published").format(
                                  day=day.isoformat(), today=today.isoformat()))
    for e in reversed(all_entries):
        if e.is_commitment:
            before = commitment_day(e)
            if day < before:
                raise ProtocolError(_(
                    "--date {day} precedes the date of commitment #{seq} ({before}): "
                    "commitments are published in ledger order; date this one {before} or later"
                ).format(day=day.isoformat(), seq=e.seq, before=before.isoformat()))
            break
    return day


def commitment_day(entry: Entry) -> dt.date:
    """A commitment's date (format 1, which has none: the day its entry was appended, UTC)."""
    return announcement_date(entry.record, entry)


def latest_commitment(all_entries: Sequence[Entry], quarter: str, draw_key: str,
                      units: Sequence[str]) -> Entry | None:
    """The latest commitment for exactly this quarter, draw key and units."""
    key = COMMITMENT + draw_key
    for e in reversed(all_entries):
        if e.is_commitment and e.quarter == quarter and e.draw_key == key \
                and list(e.units) == list(units):
            return e
    return None


def commitment_user(all_entries: Sequence[Entry], commitment: Entry) -> Entry | None:
    """The draw entry that used ``commitment`` (None if unused)."""
    for e in all_entries:
        if e.is_draw and e.seq > commitment.seq:
            ref = e.record.get("inputs", {}).get("commitment") or {}
            if ref.get("entry_hash") == commitment.entry_hash:
                return e
    return None


def check_commitment(all_entries: Sequence[Entry], quarter: str, draw_key: str,
                     order: Sequence[str], frame_sha: str, policy: Policy,
                     history_records: Sequence[str], redraw: bool,
                     reason: str | None, register_files: Mapping[str, str] | None = None
                     ) -> Entry:
    """The commitment a draw may use, or :class:`ProtocolError` saying what is missing."""
    units = ", ".join(order)
    names = dict(quarter=quarter, draw_key=draw_key, units=units,
                 quarter_zh=Quarter.parse(quarter).label_zh,
                 units_zh="、".join(policy.unit_names.get(u, u) for u in order))
    c = latest_commitment(all_entries, quarter, draw_key, order)
    if c is None:
        raise ProtocolError(_(
            "no commitment for {quarter} ({draw_key}; units {units}): publish one before the "
            "seed material exists - dsr commit --quarter {quarter} --seed-source '…'"
        ).format(**names))
    used = commitment_user(all_entries, c)
    if used is not None:
        raise ProtocolError(_(
            "commitment #{seq} for {quarter} (units {units}) was used by draw #{draw}; a "
            "re-draw needs a new commitment (dsr commit … --reason '…') and --reason"
        ).format(seq=c.seq, draw=used.seq, **names))
    if redraw and not (reason or "").strip():
        raise ProtocolError(_(
            "{quarter} (units {units}) was drawn already: a re-draw needs --reason TEXT (it is "
            "recorded and listed in the notices and the year's summary)").format(**names))
    got = c.record["inputs"]
    checks = [(N_("the enterprise frame"), "", got["frame_sha256"], frame_sha),
              (N_("the policy file"), "", got["policy_sha256"], policy.sha256),
              (N_("the overlap history"), "", got["history_sha256"],
               history_sha256(history_records))]
    if register_files is not None:
        committed_files = got.get("registers", {})
        for name in sorted(set(committed_files) | set(register_files)):
            checks.append((N_("the register file {name}"), name,
                           committed_files.get(name, _("(none)")),
                           register_files.get(name, _("(none)"))))
    for what, name, committed, now in checks:
        if committed != now:
            raise ProtocolError(_(
                "{what} changed since commitment #{seq} ({created}): committed SHA-256 "
                "{committed}, now {now}; the draw is refused - restore the committed input, or "
                "publish a new commitment before new seed material exists").format(
                    what=_(what).format(name=name), seq=c.seq, created=c.created_at,
                    committed=committed, now=now))
    return c


def commitment_ref(entry: Entry) -> dict:
    return {"seq": entry.seq, "entry_hash": entry.entry_hash}


def announcement_html(commitment: Mapping[str, Any], entry: Entry, all_entries: Sequence[Entry],
                      unit_names: Mapping[str, str] | None = None,
                      authority: str | None = None, timestamp_line: str | None = None) -> str:
    """The public announcement (抽取公告) of a commitment, as an HTML page (every value
    escaped): what will be drawn, from which inputs, and where the seed will come from.
    Issued by the commitment's ``issuer`` and dated by its ``date`` (a format-1 commitment:
    ``authority`` and the entry's day); ``unit_names`` only for a format-1 commitment."""
    e = html.escape
    q = Quarter.parse(commitment["quarter"])
    src = commitment["seed_source"]
    inp = commitment["inputs"]
    names = _unit_names(commitment, unit_names)
    authority = _issuer(commitment, authority)
    units = "、".join(names.get(u, u) for u in commitment["units"])
    rows = "".join(
        f"<tr><td>{e(names.get(r['unit'], r['unit']))}</td><td>{e(_stratum_zh(r['stratum']))}</td>"
        f"<td class='n'>{r['population']}</td><td class='n'>{r['quota']}</td>"
        + "".join(f"<td class='n'>{_percent_text(_class_probability(r, c))}</td>" for c in "ABCD")
        + "</tr>" for r in commitment["quotas"])
    form = "按公开数字的规范形式（RFC 3797）" if src["form"] == "numbers" else "按公布的原文"
    head = head_of(list(all_entries))
    n, h = head.split(":")
    redo = (f"<p>本次为重新抽取，原因：{e(commitment['reason'])}。</p>"
            if commitment.get("reason") else "")
    follow_up = follow_up_text(commitment, names)
    if follow_up:
        redo += "".join(f"<p>{e(t)}</p>" for t in follow_up)
    kind = announcement_kind(commitment)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(authority)}{q.year}年第{"一二三四"[q.q - 1]}季度“双随机”{kind}</title>
<style>
body {{ font-family: "FangSong", "STFangsong", "Noto Serif CJK SC", serif; max-width: 46em;
       margin: 2em auto; line-height: 1.8; font-size: 16pt; }}
h1 {{ font-family: "SimSun", "Noto Serif CJK SC", serif; text-align: center; font-size: 22pt; }}
table {{ border-collapse: collapse; font-size: 12pt; width: 100%; }}
td, th {{ border: 1px solid #000; padding: 2px 6px; }}
td.n {{ text-align: right; }}
.hash {{ font-family: "Noto Sans Mono CJK SC", monospace; font-size: 10pt; word-break: break-all; }}
.sign {{ text-align: right; margin-top: 2em; }}
</style></head><body>
<h1>{e(authority)}{q.year}年第{"一二三四"[q.q - 1]}季度“双随机”{kind}</h1>
<p>根据年度“双随机、一公开”监管工作实施方案，本季度将对{e(units)}{_what_is_drawn(commitment)}。
在随机数产生之前，现将本次抽取所依据的输入和随机数来源公告如下，任何人可据此核验抽取结果。</p>
{redo}
<p>一、随机数来源：{"".join(f"{e(t)}" for t in seed_source_lines(src, form))}
随机种子由{"上述来源" if src.get("beacon") else "该数值"}与下列输入摘要共同确定，任何一方均无法预先选择。</p>
<p>二、输入摘要（SHA-256）：</p>
<p>检查对象名录库：<span class="hash">{e(inp['frame_sha256'])}</span><br>
抽查方案（政策参数）：<span class="hash">{e(inp['policy_sha256'])}</span><br>
此前有效抽取记录：<span class="hash">{e(inp['history_sha256'])}</span>{"".join(
    f"<br>{e(t)}" for t in foreign_heads_lines(inp))}</p>
<p>三、各抽取层的抽取数量和各信用风险类别的入样概率（“—”表示该层没有该类别的检查对象）：</p>
<table><tr><th>抽查单位</th><th>抽取层</th><th>对象数</th><th>抽取数</th>
<th>A类</th><th>B类</th><th>C类</th><th>D类</th></tr>{rows}</table>
<p>四、抽取记录账本：本公告登记为第 {entry.seq} 条，登记后账本共 {e(n)} 条，
最新一条哈希值为 <span class="hash">{e(h)}</span>。{e(timestamp_line or "")}</p>
<p class="sign">{e(authority)}<br>{date_zh(announcement_date(commitment, entry))}</p>
</body></html>
"""


def announcement_document(commitment: Mapping[str, Any], entry: Entry,
                          all_entries: Sequence[Entry],
                          unit_names: Mapping[str, str] | None = None,
                          authority: str | None = None, timestamp_line: str | None = None):
    """The same announcement as an official document (DOCX and PDF in the national layout;
    public: no object, no inspector); issuer and date as :func:`announcement_html`."""
    from ..documents.model import Heading, OfficialDocument, Paragraph, Table

    q = Quarter.parse(commitment["quarter"])
    src = commitment["seed_source"]
    inp = commitment["inputs"]
    names = _unit_names(commitment, unit_names)
    authority = _issuer(commitment, authority)
    units = "、".join(names.get(u, u) for u in commitment["units"])
    form = "按公开数字的规范形式（RFC 3797）" if src["form"] == "numbers" else "按公布的原文"
    n, h = head_of(list(all_entries)).split(":")
    frame = pd.DataFrame({
        "抽查单位": [names.get(r["unit"], r["unit"]) for r in commitment["quotas"]],
        "抽取层": [_stratum_zh(r["stratum"]) for r in commitment["quotas"]],
        "对象数": [int(r["population"]) for r in commitment["quotas"]],
        "抽取数": [int(r["quota"]) for r in commitment["quotas"]],
        **{f"{c}类入样概率": [_class_probability(r, c) for r in commitment["quotas"]]
           for c in "ABCD"}})  # NaN (an empty class) is shown as "—"
    blocks = [Paragraph(f"根据年度“双随机、一公开”监管工作实施方案，本季度将对{units}"
                        f"{_what_is_drawn(commitment)}。在随机数产生之前，现将本次抽取所依据的"
                        "输入和随机数来源公告如下，任何人可据此核验抽取结果。")]
    if commitment.get("reason"):
        blocks.append(Paragraph(f"本次为重新抽取，原因：{commitment['reason']}。"))
    blocks += [Paragraph(t) for t in follow_up_text(commitment, names)]
    blocks += [
        Heading("一、随机数来源", 1),
        Paragraph("".join(seed_source_lines(src, form))
                  + f"随机种子由{'上述来源' if src.get('beacon') else '该数值'}与下列输入摘要共同确定，"
                  "任何一方均无法预先选择。"),
        Heading("二、输入摘要（SHA-256）", 1),
        Paragraph(f"检查对象名录库：{inp['frame_sha256']}", indent=False),
        Paragraph(f"抽查方案（政策参数）：{inp['policy_sha256']}", indent=False),
        Paragraph(f"此前有效抽取记录：{inp['history_sha256']}", indent=False),
        *(Paragraph(t, indent=False) for t in foreign_heads_lines(inp)),
        Heading("三、各抽取层的抽取数量和入样概率", 1),
        Paragraph("“—”表示该抽取层没有该信用风险类别的检查对象。"),
        Table(frame, percent=tuple(f"{c}类入样概率" for c in "ABCD")),
        Heading("四、抽取记录账本", 1),
        Paragraph(f"本公告登记为第{entry.seq}条，登记后账本共{n}条，最新一条哈希值为{h}。"
                  + (timestamp_line or "")),
    ]
    return OfficialDocument(
        title=f"{authority}{q.label_zh}“双随机”{announcement_kind(commitment)}", issuer=authority,
        date=announcement_date(commitment, entry), blocks=tuple(blocks), public=True)


def seed_source_lines(src: Mapping[str, Any], form: str) -> list[str]:
    """The announcement's sentences on the seed's sources: the typed source (lottery, dice)
    and the drand round (its chain, number and the time it is produced), in that order."""
    lines = []
    if str(src.get("description") or "").strip():
        lines.append(f"{src['description']}。抽取时{form}录入，" if not src.get("beacon") else
                     f"（一）{src['description']}，抽取时{form}录入。")
    if src.get("beacon"):
        mark = "（二）" if lines else ""
        lines.append(f"{mark}{beacon_description(src['beacon'])}。{beacon_rule_text()}"
                     + ("；两项来源按先后顺序以“; ”连接。" if lines else "。"))
    return lines


def follow_ups_sha256(follow_ups: Mapping[str, Any]) -> str:
    """Digest of a re-inspection draw's firms (``inputs.follow_ups``): SHA-256 of their
    canonical JSON (sorted keys, no white space, UTF-8)."""
    text = json.dumps(follow_ups, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _what_is_drawn(commitment: Mapping[str, Any]) -> str:
    if commitment.get("inputs", {}).get("follow_ups"):
        return "此前责令改正的检查对象逐一安排复查，并随机选派执法检查人员"
    return "的检查对象进行随机抽取"


def announcement_kind(commitment: Mapping[str, Any]) -> str:
    """The announcement's kind in its title: 复查抽取公告 for a re-inspection draw."""
    return "复查抽取公告" if commitment.get("inputs", {}).get("follow_ups") else "抽取公告"


def follow_up_text(commitment: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    """The paragraphs that say a commitment is a re-inspection draw (复查): the number of
    firms per unit and the digest of their list (the firms are not named: the list is
    published with the draw record); empty for any other draw."""
    follow_ups = commitment.get("inputs", {}).get("follow_ups")
    if not follow_ups:
        return []
    per_unit = "、".join(f"{names.get(u, u)}{len(follow_ups[u])}家"
                        for u in commitment["units"] if u in follow_ups)
    total = sum(len(f) for f in follow_ups.values())
    return [f"本次为复查抽取：此前检查中责令改正（整改）、尚未办结且未经复查的检查对象共{total}家"
            f"（{per_unit}），由作出决定的单位复查。复查对象全部列入（入样概率100%），"
            "不受年度抽查次数上限限制，一律现场检查。",
            f"复查对象清单（含原检查任务编号）已在本次抽取的登记中固定，其摘要（SHA-256）为"
            f"{follow_ups_sha256(follow_ups)}，清单随抽取记录公开。"]


def foreign_heads_lines(inputs: Mapping[str, Any]) -> list[str]:
    """Lines of the announcement naming the other bureaus' ledgers whose imported draws the
    history holds, at the heads they were imported at (``inputs.foreign_heads``)."""
    out = []
    for info in (inputs.get("foreign_heads") or {}).values():
        n, _, h = str(info["head"]).partition(":")
        out.append(f"其中包括导入的{info.get('issuer') or '其他单位'}抽取记录，截至其账本"
                   f"第{n}条（哈希值{h}）")
    return out


def announcement_names(seq: int) -> tuple[str, ...]:
    """The announcement's files in a draw folder, relative to it (HTML, DOCX, PDF)."""
    return tuple(f"public/announcement-{seq}.{ext}" for ext in ("html", "docx", "pdf"))


def write_announcement(commitment: Mapping[str, Any], entry: Entry,
                       all_entries: Sequence[Entry], folder: str | Path,
                       unit_names: Mapping[str, str] | None = None,
                       authority: str | None = None,
                       timestamp_line: str | None = None) -> list[str]:
    """Write the announcement in every form (:func:`announcement_names`) under ``folder``,
    each file under a temporary name then renamed; returns the names written. ``all_entries``
    end with ``entry`` (the head the announcement prints). ``timestamp_line``: the sentence
    of an RFC 3161 token showing the entry existed by its time
    (:func:`dsr_analysis.timestamps.covering_text_zh`), printed after the head."""
    from ..documents import write_forms  # python-docx and WeasyPrint: heavy

    folder = Path(folder)
    html_name, _docx, _pdf = announcement_names(entry.seq)
    page = folder / html_name
    page.parent.mkdir(parents=True, exist_ok=True)
    tmp = page.with_name(f".{page.name}.tmp")
    try:
        tmp.write_text(announcement_html(commitment, entry, all_entries, unit_names, authority,
                                         timestamp_line), encoding="utf-8")
        os.replace(tmp, page)
    finally:
        tmp.unlink(missing_ok=True)
    write_forms(announcement_document(commitment, entry, all_entries, unit_names, authority,
                                      timestamp_line), page.with_suffix(""))
    return list(announcement_names(entry.seq))


def announcement_date(commitment: Mapping[str, Any], entry: Entry) -> dt.date:
    """The announcement's date: the commitment's ``date`` (format 1: its entry's day)."""
    text = commitment.get("date")
    return dt.date.fromisoformat(text) if text else pd.Timestamp(entry.created_at).date()


def _issuer(commitment: Mapping[str, Any], authority: str | None) -> str:
    name = commitment.get("issuer") or authority
    if not name:
        raise ProtocolError(_("commitment for {quarter} names no issuer: give the issuing "
                              "authority").format(quarter=commitment.get("quarter")))
    return str(name)


def _unit_names(commitment: Mapping[str, Any], unit_names: Mapping[str, str] | None
                ) -> dict[str, str]:
    return {**(unit_names or {}), **(commitment.get("unit_names") or {})}


def _class_probability(row: Mapping[str, Any], c: str) -> float:
    """A class's inclusion probability in a stratum; NaN when the stratum has no object of
    the class (shown "—": 0 % would read as "cannot be drawn")."""
    counts = row.get("population_by_class")
    if counts is not None and int(counts.get(c, 0)) == 0:
        return float("nan")
    return float(row["probability"][c])


def _percent_text(value: float) -> str:
    return "—" if value != value else f"{value:.1%}"


def _stratum_zh(stratum: str) -> str:
    """``key/all`` -> 重点监管对象; ``general/positive_list`` -> 一般监管对象（正面清单）."""
    category, _, subset = str(stratum).partition("/")
    name = CATEGORY_ZH.get(category, category)
    return name if subset in ("", "all") else f"{name}（{SUBSET_ZH.get(subset, subset)}）"
