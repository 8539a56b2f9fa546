"""Randomness no one can type wrong: a drand round as (part of) the seed material.

drand (the League of Entropy's public randomness beacon) publishes, every ``period``
seconds, a BLS12-381 signature by a threshold of independent operators. Nobody can predict
a round's signature before its time, and anyone can check it offline against the chain's
public key. A round's time is known in advance from the chain's parameters::

    time(round) = genesis_time + (round - 1) * period        (UTC, seconds)

**At the commitment** (``dsr commit --beacon drand:ROUND``) the commitment's seed source
names the chain (its hash, public key, period, genesis time and scheme: the whole chain
information, so a verifier needs nothing else) and the round, whose time must fall after
the announcement's day (China Standard Time): the randomness does not exist when the
announcement is published. The announcement prints the chain, the round and its time.

**At the draw** (``dsr draw --beacon-signature HEX`` or ``--beacon-signature round.json``,
the round as drand's HTTP API returns it) the round's signature - and, for a chained chain,
the previous round's signature - is verified against the committed public key
(:func:`verify_round`, with ``py_ecc``'s IETF BLS ciphersuite
``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_``: public keys on G1, signatures on G2). The
signed message is ``SHA-256(previous_signature || round as 8 bytes big-endian)`` for the
chained scheme ``pedersen-bls-chained`` (the default mainnet chain) and
``SHA-256(round as 8 bytes big-endian)`` for ``pedersen-bls-unchained``. A forged, mistyped
or wrong-round signature fails the check and the draw is refused.

The round's **randomness** is ``SHA-256(signature)`` (hex); its part of the canonical seed
material (:func:`beacon_material`) is the plain string
``drand:{chain_hash}:{round}:{randomness}``. With typed material as well (lottery numbers,
dice) the canonical material is the typed part's canonical form, ``"; "``, then the beacon
part (:func:`combined_material`). The draw record keeps the round's evidence in
``inputs.beacon`` (``chain_hash``, ``round``, ``signature``, ``previous_signature``,
``randomness``) and ``dsr verify`` checks it again (:func:`check_record_beacon`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DsrError
from ..i18n import N_, _

#: China Standard Time (the announcement's clock).
CST = dt.timezone(dt.timedelta(hours=8))
CHAINED = "pedersen-bls-chained"
UNCHAINED = "pedersen-bls-unchained"
#: Schemes this module verifies (signatures on G2, public keys on G1).
SCHEMES = (CHAINED, UNCHAINED)


@dataclass(frozen=True)
class Chain:
    """A drand chain's information (``/info`` of drand's HTTP API)."""

    hash: str
    public_key: str
    period: int
    genesis_time: int
    scheme: str
    name: str = ""

    def as_dict(self) -> dict:
        return {"chain_hash": self.hash, "public_key": self.public_key, "period": self.period,
                "genesis_time": self.genesis_time, "scheme": self.scheme, "name": self.name}


#: The League of Entropy mainnet ("default" beacon), as published by drand and shipped in
#: drand's own client (npm ``drand-client``, ``lib/defaults.ts``: DEFAULT_CHAIN_INFO).
MAINNET = Chain(
    hash="8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce",
    public_key="868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a569937c529eeda66c72"
               "93784a9402801af31",
    period=30, genesis_time=1595431050, scheme=CHAINED,
    name="League of Entropy mainnet (default)")
#: Chains known by their hash (``--beacon drand:ROUND`` names the mainnet).
CHAINS = {MAINNET.hash: MAINNET}


class BeaconError(DsrError):
    """A beacon round that is not the committed one, or whose signature does not verify."""


def chain_hash_of(info: Mapping[str, Any]) -> str:
    return str(info.get("chain_hash") or info.get("hash") or "")


def round_time(info: Mapping[str, Any] | Chain, round_: int) -> dt.datetime:
    """The time drand produces ``round_`` of a chain (UTC): genesis + (round - 1) x period."""
    if isinstance(info, Chain):
        info = info.as_dict()
    seconds = int(info["genesis_time"]) + (int(round_) - 1) * int(info["period"])
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def time_zh(moment: dt.datetime) -> str:
    """``2023年9月15日19时55分00秒（北京时间）`` for a UTC time."""
    t = moment.astimezone(CST)
    return f"{t.year}年{t.month}月{t.day}日{t.hour}时{t.minute:02d}分{t.second:02d}秒（北京时间）"


def parse_beacon(spec: str) -> tuple[Chain, int]:
    """``drand:ROUND`` (the League of Entropy mainnet) or ``drand:CHAIN_HASH:ROUND``."""
    text = str(spec).strip()
    m = re.fullmatch(r"drand:(?:([0-9a-fA-F]{64}):)?(\d{1,15})", text)
    if not m:
        raise BeaconError(_("--beacon {value}: write drand:ROUND (the League of Entropy "
                            "mainnet) or drand:CHAIN_HASH:ROUND, e.g. drand:3311596").format(
                                value=repr(text)))
    chain_hash = (m.group(1) or MAINNET.hash).lower()
    chain = CHAINS.get(chain_hash)
    if chain is None:
        raise BeaconError(_("--beacon {value}: unknown drand chain {hash}; known chains: "
                            "{known}").format(value=text, hash=chain_hash,
                                              known=", ".join(CHAINS)))
    round_ = int(m.group(2))
    if round_ < 1:
        raise BeaconError(_("--beacon {value}: drand rounds start at 1").format(value=text))
    return chain, round_


def commitment_beacon(spec: str, day: dt.date) -> dict:
    """The ``seed_source.beacon`` of a commitment dated ``day``: the chain's information,
    the round and its time (UTC, ISO 8601). The round must come after the announcement's
    day (China Standard Time), so that its randomness does not exist when it is published."""
    chain, round_ = parse_beacon(spec)
    when = round_time(chain, round_)
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), CST)
    if when < end_of_day:
        raise BeaconError(_(
            "drand round {round} is produced at {time} UTC, not after the announcement's day "
            "{day}: name a round whose time comes after the announcement is published (the "
            "first round of the next day is {first})").format(
                round=round_, time=when.isoformat(), day=day.isoformat(),
                first=first_round_after(chain, end_of_day)))
    return {"type": "drand", **chain.as_dict(), "round": round_,
            "time": when.isoformat().replace("+00:00", "Z")}


def first_round_after(chain: Chain, moment: dt.datetime) -> int:
    """The first round of ``chain`` produced at or after ``moment``."""
    seconds = moment.timestamp() - chain.genesis_time
    return max(1, -(-int(seconds) // chain.period) + 1)


def beacon_description(beacon: Mapping[str, Any]) -> str:
    """The beacon in the announcement's words (Chinese)."""
    name = "国际随机信标联盟（League of Entropy）drand 主网" if chain_hash_of(beacon) == MAINNET.hash \
        else "drand 随机信标"
    when = round_time(beacon, int(beacon["round"]))
    return (f"{name}第{beacon['round']}轮随机数（该轮按信标公开参数于{time_zh(when)}产生；"
            f"链哈希{chain_hash_of(beacon)}，公钥{beacon['public_key']}，"
            f"周期{beacon['period']}秒，起始时间{beacon['genesis_time']}，方案{beacon['scheme']}）")


def beacon_rule_text() -> str:
    """How the round enters the seed (Chinese): printed under the description."""
    return ("抽取时录入该轮的签名，以信标公钥离线核验（BLS12-381），核验不通过的不予抽取；"
            "该轮随机数为签名的SHA-256值，以“drand:链哈希:轮次:随机数”的形式计入随机种子原始材料")


@dataclass(frozen=True)
class Round:
    """A drand round as supplied at the draw."""

    round: int | None
    signature: str
    previous_signature: str | None = None


def _hex(value: Any, what: str, source: str) -> str:
    text = "".join(str(value).split()).lower()
    if text.startswith("0x"):
        text = text[2:]
    if not re.fullmatch(r"[0-9a-f]+", text or "-") or len(text) % 2:
        raise BeaconError(_("{source}: the {what} {value} is not hexadecimal").format(
            source=source, what=_(what), value=repr(str(value)[:40])))
    return text


def load_round(value: str, previous: str | None = None) -> Round:
    """The round supplied at the draw: a JSON file as drand's HTTP API returns it
    (``round``, ``signature``, ``previous_signature``; ``randomness`` is checked when
    present), or the signature in hexadecimal (``previous`` for a chained chain)."""
    text = str(value).strip()
    path = Path(text)
    if text.endswith(".json") or (len(text) < 4096 and path.is_file()):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise BeaconError(_("{path}: cannot read the drand round ({reason})").format(
                path=text, reason=exc.strerror or exc)) from None
        except json.JSONDecodeError as exc:
            raise BeaconError(_("{path}: the drand round is not JSON ({reason})").format(
                path=text, reason=exc)) from None
        if not isinstance(data, dict) or "signature" not in data:
            raise BeaconError(_("{path}: a drand round needs the keys round and signature "
                                "(as drand's HTTP API returns /public/ROUND)").format(path=text))
        try:
            round_ = int(data["round"]) if data.get("round") is not None else None
        except (TypeError, ValueError):
            raise BeaconError(_("{path}: round {value} is not a number").format(
                path=text, value=repr(data.get("round")))) from None
        sig = _hex(data["signature"], N_("signature"), text)
        prev = data.get("previous_signature")
        prev = _hex(prev, N_("previous signature"), text) if prev else None
        if data.get("randomness") and _hex(data["randomness"], N_("randomness"), text) \
                != hashlib.sha256(bytes.fromhex(sig)).hexdigest():
            raise BeaconError(_("{path}: the randomness is not SHA-256 of the signature: the "
                                "file was edited").format(path=text))
        return Round(round_, sig, prev)
    return Round(None, _hex(text, N_("signature"), "--beacon-signature"),
                 _hex(previous, N_("previous signature"), "--beacon-previous-signature")
                 if previous else None)


def round_message(scheme: str, round_: int, previous_signature: str | None) -> bytes:
    """The message a round's signature signs (see the module docstring)."""
    number = int(round_).to_bytes(8, "big")
    if scheme == CHAINED:
        return hashlib.sha256(bytes.fromhex(previous_signature or "") + number).digest()
    return hashlib.sha256(number).digest()


def verify_round(beacon: Mapping[str, Any], supplied: Round) -> dict:
    """The supplied round checked against the committed ``beacon`` (its round, its chain's
    public key): the evidence the draw record keeps (``inputs.beacon``). Raises
    :class:`BeaconError` saying what is wrong."""
    from py_ecc.bls import G2Basic  # the IETF ciphersuite drand's default chain uses

    round_ = int(beacon["round"])
    scheme = str(beacon["scheme"])
    if scheme not in SCHEMES:
        raise BeaconError(_("drand scheme {scheme} is not supported (use one of "
                            "{schemes})").format(scheme=scheme, schemes=", ".join(SCHEMES)))
    if supplied.round is not None and supplied.round != round_:
        raise BeaconError(_("the drand round supplied is round {got}; the commitment named "
                            "round {want}").format(got=supplied.round, want=round_))
    if scheme == CHAINED and not supplied.previous_signature:
        raise BeaconError(_("drand round {round} is on a chained chain: its previous_signature "
                            "is needed too (--beacon-previous-signature, or give the round's "
                            "JSON file)").format(round=round_))
    sig = bytes.fromhex(supplied.signature)
    message = round_message(scheme, round_, supplied.previous_signature)
    try:
        ok = len(sig) == 96 and G2Basic.Verify(bytes.fromhex(str(beacon["public_key"])),
                                               message, sig)
    except Exception:  # py_ecc refuses malformed points with various errors
        ok = False
    if not ok:
        raise BeaconError(_(
            "the signature given for drand round {round} does not verify against the chain's "
            "public key ({chain}): it is not that round's signature (mistyped, another round, "
            "or forged); the draw is refused - copy the round again from a drand relay "
            "(e.g. /public/{round})").format(round=round_, chain=chain_hash_of(beacon)[:16]))
    return {"chain_hash": chain_hash_of(beacon), "round": round_,
            "signature": supplied.signature,
            "previous_signature": supplied.previous_signature if scheme == CHAINED else None,
            "randomness": hashlib.sha256(sig).hexdigest()}


def beacon_material(evidence: Mapping[str, Any]) -> str:
    """The beacon's part of the canonical seed material: ``drand:{chain}:{round}:{randomness}``."""
    return f"drand:{evidence['chain_hash']}:{int(evidence['round'])}:{evidence['randomness']}"


def combined_material(typed: str | None, evidence: Mapping[str, Any] | None) -> str:
    """The canonical seed material of several sources: the typed part (already canonical)
    and the beacon part, joined by ``"; "``, in that order."""
    parts = [p for p in (typed, beacon_material(evidence) if evidence else None) if p]
    return "; ".join(parts)


def check_record_beacon(record_inputs: Mapping[str, Any],
                        commitment: Mapping[str, Any] | None) -> str | None:
    """A draw record's beacon against its commitment (``dsr verify``): None when the
    commitment names no beacon and the record holds none, or when the stored round verifies
    again and its material ends the seed material; else what is wrong."""
    committed = ((commitment or {}).get("seed_source") or {}).get("beacon")
    evidence = record_inputs.get("beacon")
    if committed is None and evidence is None:
        return None
    if committed is None:
        return _("the record holds a drand round, its commitment names none")
    if evidence is None:
        return _("the commitment names drand round {round}, the record holds none").format(
            round=committed.get("round"))
    try:
        again = verify_round(committed, Round(evidence.get("round"),
                                              str(evidence.get("signature", "")),
                                              evidence.get("previous_signature")))
    except (BeaconError, ValueError) as exc:
        return str(exc)
    if again != dict(evidence):
        return _("the stored round evidence {stored} is not what its signature gives").format(
            stored=json.dumps(dict(evidence), sort_keys=True)[:120])
    material = str(record_inputs.get("seed_material", ""))
    typed = str(((commitment or {}).get("seed_source") or {}).get("description") or "").strip()
    part = beacon_material(again)
    if not (material.endswith("; " + part) if typed else material == part):
        return _("the seed material is not the committed sources' canonical material (it "
                 "must end with the drand round's part {part})").format(part=part)
    return None


def check_commitment_beacon(commitment: Mapping[str, Any], day: dt.date) -> str | None:
    """A commitment's drand round (``dsr verify``): the chain information of a known chain,
    the round's time as its parameters give it and after the announcement's ``day``; None
    when it names no beacon or all holds, else what is wrong."""
    beacon = (commitment.get("seed_source") or {}).get("beacon")
    if beacon is None:
        return None
    try:
        want = commitment_beacon(f"drand:{chain_hash_of(beacon)}:{int(beacon['round'])}", day)
    except (BeaconError, KeyError, TypeError, ValueError) as exc:
        return str(exc)
    if want != dict(beacon):
        return _("the drand round {round} is recorded as {stored}; its chain gives "
                 "{want}").format(round=beacon.get("round"),
                                  stored=json.dumps(dict(beacon), sort_keys=True)[:160],
                                  want=json.dumps(want, sort_keys=True)[:160])
    return None
