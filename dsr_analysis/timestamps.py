"""A ledger head with a trusted time: RFC 3161 timestamp tokens over the ledger head.

``dsr timestamp`` asks a time-stamping authority (TSA) to sign the current ledger head:
the request's **message imprint** is ``SHA-256`` of the head's text ``N:HASH`` (UTF-8, the
form every public document prints), so the token proves that this head - and with it every
entry up to ``N`` - existed at the token's time. The TSA is reached over HTTP (``--tsa URL``,
RFC 3161 section 3.4: ``application/timestamp-query``), or, for an office whose TSA is
reached by another tool, the request is written to a file (``--request FILE``) and the
reply read back (``--response FILE``).

Tokens are kept in the ledger's table ``timestamps`` (``id``, ``head``, ``gen_time`` UTC ISO
8601, ``tsa``: the signer's name, ``token``: the DER ``TimeStampResp``, ``added_at``). The
table is outside the hash chain - a token is evidence *about* a head, and appending it as an
entry would move the head it certifies - and a ledger without it (every older ledger) simply
has no token. A reply is stored only when its status is granted and its imprint is the
digest of one of the ledger's heads (normally the current one).

``dsr verify`` checks every stored token (:func:`verify_timestamps`): the imprint is the
digest of the head stored with it, that head is still entry ``N`` of the ledger, and - with
a trust store (``--tsa-trust FILE`` or the environment variable ``DSR_TSA_TRUST``: PEM
certificates of the trusted roots) - the TSA's signature and certificate chain
(``rfc3161-client``: the signer certificate must carry the critical extended key usage
``timeStamping``). It reports the time each head existed by. Without a trust store the
tokens' signatures are not checked, and ``dsr verify`` says so.

:func:`local_tsa` runs a TSA on this machine with OpenSSL (``openssl ts -reply``) and its own
test CA: the tests use it, and the demo timestamps one head with it (:func:`demo_timestamp`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .errors import DsrError, LedgerError
from .i18n import _

#: The environment variable naming the default trust store (PEM roots of trusted TSAs).
TRUST_ENV = "DSR_TSA_TRUST"
#: Seconds to wait for a TSA's reply.
TIMEOUT = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS timestamps (
    id INTEGER PRIMARY KEY,
    head TEXT NOT NULL,
    gen_time TEXT NOT NULL,
    tsa TEXT NOT NULL,
    token BLOB NOT NULL,
    added_at TEXT NOT NULL
)
"""


class TimestampError(DsrError):
    """A timestamp reply that cannot be stored or a token that does not verify."""


@dataclass(frozen=True)
class Timestamp:
    """A stored token: the head it certifies, the TSA's time and name."""

    id: int
    head: str
    gen_time: str
    tsa: str

    @property
    def time(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.gen_time.replace("Z", "+00:00"))


def head_imprint(head: str) -> bytes:
    """The message imprint of a head: SHA-256 of its text ``N:HASH`` (UTF-8)."""
    return hashlib.sha256(str(head).strip().encode("utf-8")).digest()


def timestamp_request(head: str) -> bytes:
    """The DER ``TimeStampReq`` over ``head`` (SHA-256, a nonce, the TSA's certificate
    requested)."""
    from rfc3161_client import TimestampRequestBuilder
    from rfc3161_client.base import HashAlgorithm

    builder = (TimestampRequestBuilder().hash_algorithm(HashAlgorithm.SHA256)
               .cert_request(cert_request=True).nonce(nonce=True))
    # the builder hashes its data: the imprint is SHA-256 of the head text
    return builder.data(str(head).strip().encode("utf-8")).build().as_bytes()


def _heads(ledger: str | Path) -> dict[bytes, str]:
    from .draw.ledger import entries

    out = {}
    for e in entries(ledger):
        h = f"{e.seq}:{e.entry_hash}"
        out[head_imprint(h)] = h
    return out


def _decode(data: bytes, source: str):
    from rfc3161_client import decode_timestamp_response

    try:
        return decode_timestamp_response(data)
    except Exception as exc:  # the parser raises several kinds on bad DER
        raise TimestampError(_("{source}: not an RFC 3161 timestamp reply ({reason})").format(
            source=source, reason=exc)) from None


def _tsa_name(resp) -> str:
    try:
        from cryptography import x509

        certs = [x509.load_der_x509_certificate(c) for c in resp.signed_data.certificates]
        si = next(iter(resp.signed_data.signer_infos))
        for c in certs:
            if c.issuer == si.issuer and c.serial_number == si.serial_number:
                cn = c.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
                return str(cn[0].value) if cn else c.subject.rfc4514_string()
    except Exception:  # noqa: BLE001 - a name only for display
        pass
    return "?"


def _gen_time(resp) -> str:
    t = resp.tst_info.gen_time
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def load_trust(path: str | Path | None) -> list:
    """The trusted root certificates (PEM file with one or more certificates): ``path``,
    else the file named by :data:`TRUST_ENV`, else none (an empty list)."""
    from cryptography import x509

    path = path or os.environ.get(TRUST_ENV) or None
    if not path:
        return []
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TimestampError(_("{path}: cannot read the TSA trust store ({reason})").format(
            path=path, reason=exc.strerror or exc)) from None
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise TimestampError(_("{path}: the TSA trust store holds no PEM certificate "
                               "({reason})").format(path=path, reason=exc)) from None
    return certs


def check_token(data: bytes, head: str, roots: Sequence, source: str) -> object:
    """The decoded reply, checked: granted, its imprint the digest of ``head`` and (with
    ``roots``) the TSA's signature and certificate chain. Raises :class:`TimestampError`."""
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder

    resp = _decode(data, source)
    if PKIStatus(resp.status) != PKIStatus.GRANTED:
        raise TimestampError(_("{source}: the TSA refused the request (status {status})").format(
            source=source, status=resp.status))
    if resp.tst_info.message_imprint.message != head_imprint(head):
        raise TimestampError(_("{source}: the token is not over the head {head} (its imprint "
                               "is {imprint}, the head's SHA-256 is {want})").format(
            source=source, head=head, imprint=resp.tst_info.message_imprint.message.hex(),
            want=head_imprint(head).hex()))
    if roots:
        builder = VerifierBuilder()
        for root in roots:
            builder = builder.add_root_certificate(root)
        try:
            builder.build().verify(resp, head_imprint(head))
        except (VerificationError, ValueError) as exc:
            raise TimestampError(_("{source}: the token's signature or the TSA's certificate "
                                   "does not verify against the trust store ({reason}): "
                                   "an untrusted or forged token").format(
                                       source=source, reason=exc)) from None
    return resp


def store_response(ledger: str | Path, data: bytes, source: str,
                   trust: str | Path | None = None) -> Timestamp:
    """Store a TSA's reply in the ledger (table ``timestamps``) after checking it: the
    imprint must be one of the ledger's heads; with a trust store, the signature too."""
    from .draw.ledger import connect, exclusive, now_utc, storage_error

    heads = _heads(ledger)
    resp = _decode(data, source)
    head = heads.get(resp.tst_info.message_imprint.message)
    if head is None:
        raise TimestampError(_("{source}: the token is over {imprint}, which is no head of the "
                               "ledger {ledger} (a reply to another request)").format(
            source=source, imprint=resp.tst_info.message_imprint.message.hex(), ledger=ledger))
    resp = check_token(data, head, load_trust(trust), source)
    with exclusive(ledger), closing(connect(ledger, create=True)) as con:
        try:
            con.executescript(_SCHEMA)
            cur = con.execute("INSERT INTO timestamps (head, gen_time, tsa, token, added_at) "
                              "VALUES (?, ?, ?, ?, ?)",
                              (head, _gen_time(resp), _tsa_name(resp), bytes(data), now_utc()))
        except sqlite3.OperationalError as exc:
            raise storage_error(ledger, exc) from None
        return Timestamp(int(cur.lastrowid), head, _gen_time(resp), _tsa_name(resp))


def stored(ledger: str | Path) -> list[tuple[Timestamp, bytes]]:
    """The stored tokens, oldest first (none for a ledger without the table)."""
    from .draw.ledger import connect

    with closing(connect(ledger)) as con:
        try:
            rows = con.execute("SELECT id, head, gen_time, tsa, token FROM timestamps "
                               "ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # a ledger without tokens
            return []
    return [(Timestamp(int(i), str(h), str(g), str(t)),
             d.encode() if isinstance(d, str) else bytes(d)) for i, h, g, t, d in rows]


def latest_timestamp(ledger: str | Path, upto: int | None = None) -> Timestamp | None:
    """The earliest token over the latest timestamped head (at most entry ``upto``): what
    the announcement and the annual plan print; None without one."""
    if not Path(ledger).exists():
        return None
    best = None
    for ts, _data in stored(ledger):
        n = int(ts.head.split(":")[0])
        if upto is not None and n > upto:
            continue
        if best is None or n > int(best.head.split(":")[0]) or (
                n == int(best.head.split(":")[0]) and ts.time < best.time):
            best = ts
    return best


def covering_timestamp(ledger: str | Path, seq: int) -> Timestamp | None:
    """The earliest stored token over a head that includes entry ``seq`` (a head ``N:…``
    with ``N >= seq``): it shows the entry existed by its time. None without one."""
    if not ledger or not Path(ledger).is_file():
        return None
    found = [ts for ts, _data in stored(ledger) if int(ts.head.split(":")[0]) >= int(seq)]
    return min(found, key=lambda t: t.time) if found else None


def covering_text_zh(ledger: str | Path, seq: int) -> str:
    """The sentence an announcement or the annual plan prints after its ledger line when a
    token covers its entry (:func:`covering_timestamp`); empty without one."""
    ts = covering_timestamp(ledger, seq)
    return f"该条登记已取得可信时间戳：{timestamp_text_zh(ts)}。" if ts else ""


def timestamp_text_zh(ts: Timestamp) -> str:
    """``账本前N条（最新一条哈希值…）于2023年…（北京时间）前已存在（RFC 3161可信时间戳，…）``."""
    t = ts.time.astimezone(dt.timezone(dt.timedelta(hours=8)))
    n, _sep, h = ts.head.partition(":")
    return (f"账本前{n}条（最新一条哈希值{h}）于{t.year}年{t.month}月{t.day}日"
            f"{t.hour}时{t.minute:02d}分{t.second:02d}秒（北京时间）前已存在"
            f"（RFC 3161可信时间戳，时间戳服务机构：{ts.tsa}）")


def verify_timestamps(ledger: str | Path, trust: str | Path | None = None
                      ) -> tuple[list[str], list[str]]:
    """Every stored token checked (``dsr verify``): (problems, notes). A note per token
    names the time its head existed by; a note says when no trust store was given."""
    from .draw.ledger import entries

    tokens = stored(ledger)
    if not tokens:
        return [], []
    roots = load_trust(trust)
    all_entries = entries(ledger)
    problems, notes = [], []
    for ts, data in tokens:
        where = _("timestamp #{id} (head {head})").format(id=ts.id, head=ts.head)
        n, _sep, h = ts.head.partition(":")
        e = all_entries[int(n) - 1] if n.isdigit() and 0 < int(n) <= len(all_entries) else None
        if e is None or e.entry_hash != h:
            problems.append(_("{where}: the ledger has no such head (entry #{n} is missing or "
                              "has another hash: the ledger was rewritten)").format(
                                  where=where, n=n))
            continue
        try:
            resp = check_token(data, ts.head, roots, where)
        except TimestampError as exc:
            problems.append(str(exc))
            continue
        if _gen_time(resp) != ts.gen_time:
            problems.append(_("{where}: the stored time {stored} is not the token's {time}")
                            .format(where=where, stored=ts.gen_time, time=_gen_time(resp)))
            continue
        notes.append(_("head {head} existed by {time} (RFC 3161 timestamp by {tsa}{checked})")
                     .format(head=ts.head, time=ts.gen_time, tsa=ts.tsa,
                             checked="" if roots else _("; signature not checked")))
    if not roots:
        notes.append(_("no TSA trust store (--tsa-trust FILE or {env}): the tokens' imprints "
                       "were checked, not the TSA's signatures and certificates").format(
                           env=TRUST_ENV))
    return problems, notes


def timestamp_ledger(ledger: str | Path, tsa: str | None = None,
                     request: str | Path | None = None, response: str | Path | None = None,
                     trust: str | Path | None = None, outputs: str | Path | None = None
                     ) -> tuple[str, Timestamp | None]:
    """``dsr timestamp``: one of ``tsa`` (obtain a token over the current head over HTTP
    and store it), ``request`` (write the request for another tool; nothing stored) or
    ``response`` (store a reply obtained by another tool). A stored token is published
    under ``outputs`` (:func:`write_public_tokens`) when given. Returns (the head, the
    stored token or None)."""
    from .draw.ledger import head as ledger_head

    chosen = [x for x in (tsa, request, response) if x]
    if len(chosen) != 1:
        raise TimestampError(_("give one of --tsa URL, --request FILE or --response FILE"))
    current = ledger_head(ledger)
    if current.startswith("0:"):
        raise LedgerError(_("{ledger}: the ledger is empty, there is no head to timestamp")
                          .format(ledger=ledger))
    if request:
        from .documents.layout import write_atomically

        data = timestamp_request(current)
        write_atomically(request, lambda tmp: tmp.write_bytes(data))
        return current, None
    if response:
        try:
            data = Path(response).read_bytes()
        except OSError as exc:
            raise TimestampError(_("{path}: cannot read the reply ({reason})").format(
                path=response, reason=exc.strerror or exc)) from None
        source = str(response)
    else:
        data, source = fetch_token(str(tsa), timestamp_request(current)), str(tsa)
    stamp = store_response(ledger, data, source, trust)
    if outputs is not None:
        write_public_tokens(ledger, outputs)
    return current, stamp


#: Where the tokens are published, under the outputs' public chain folder.
PUBLIC_TOKENS = Path("ledger-public") / "timestamps"
PUBLIC_FORMAT = "dsr-public-timestamps/1"


def write_public_tokens(ledger: str | Path, out_root: str | Path) -> list[Path]:
    """Publish every stored token beside the ledger's public chain:
    ``{out_root}/ledger-public/timestamps/token-{id}.tsr`` (the DER reply as the TSA gave it)
    and ``timestamps.json`` listing them (head, time, TSA, file). Anyone checks one with
    OpenSSL alone: ``printf '%s' 'N:HASH' > head.txt; openssl ts -verify -data head.txt -in
    token-1.tsr -CAfile TSA-ROOT.pem``. Each file is written atomically. Returns the files."""
    import json

    from .documents.layout import write_atomically

    folder = Path(out_root) / PUBLIC_TOKENS
    written, listing = [], []
    for ts, data in stored(ledger):
        name = f"token-{ts.id}.tsr"
        written.append(write_atomically(folder / name,
                                        lambda tmp, d=data: tmp.write_bytes(d)))
        listing.append({"id": ts.id, "head": ts.head, "gen_time": ts.gen_time, "tsa": ts.tsa,
                        "file": name})
    if listing:
        text = json.dumps({
            "format": PUBLIC_FORMAT,
            "imprint": "SHA-256 of the head text N:HASH (UTF-8, no newline)",
            "check": "printf '%s' 'N:HASH' > head.txt; openssl ts -verify -data head.txt "
                     "-in FILE -CAfile TSA-ROOT.pem",
            "tokens": listing}, ensure_ascii=False, indent=1)
        written.append(write_atomically(folder / "timestamps.json",
                                        lambda tmp: tmp.write_text(text + "\n",
                                                                   encoding="utf-8")))
    return written


def fetch_token(url: str, request: bytes, timeout: float = TIMEOUT) -> bytes:
    """POST ``request`` to a TSA (RFC 3161 section 3.4) and return its reply."""
    req = urllib.request.Request(url, data=request, method="POST",
                                 headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as reply:  # noqa: S310 - the TSA
            return reply.read()
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(_("{url}: the TSA did not answer ({reason})").format(
            url=url, reason=getattr(exc, "reason", exc))) from None


# ---------------------------------------------------------------------------------------
# A local TSA with OpenSSL (tests and the demo)
# ---------------------------------------------------------------------------------------

_TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

_TSA_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
"""


def openssl() -> str | None:
    """The ``openssl`` program, or None when it is not installed."""
    return shutil.which("openssl")


def _run(*args: str, cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise TimestampError(_("openssl {args}: {reason}").format(
            args=" ".join(args[1:3]), reason=done.stderr.strip()[-300:]))


def make_test_ca(directory: str | Path, name: str = "DSR Test") -> Path:
    """A root CA and a TSA certificate under ``directory`` (``ca.pem``, ``tsa.pem``,
    ``tsa.key``, ``tsa.cnf``): the TSA's certificate has the critical extended key usage
    ``timeStamping``. Returns the root's PEM (the trust store)."""
    exe = openssl()
    if exe is None:
        raise TimestampError(_("openssl is not installed: no local TSA"))
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _run(exe, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
         "-subj", f"/CN={name} Root CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _run(exe, "req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj",
         f"/CN={name} TSA", cwd=d)
    (d / "tsa.ext").write_text(_TSA_EXT, encoding="utf-8")
    _run(exe, "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-set_serial", str(secrets.randbits(62)), "-out", "tsa.pem", "-days", "3650",
         "-extfile", "tsa.ext", cwd=d)
    (d / "tsaserial").write_text("01\n", encoding="ascii")
    (d / "tsa.cnf").write_text(_TSA_CONFIG.format(dir=d.resolve()), encoding="utf-8")
    return d / "ca.pem"


def tsa_reply(directory: str | Path, request: bytes) -> bytes:
    """The reply of the OpenSSL TSA of ``directory`` (:func:`make_test_ca`) to a request."""
    d = Path(directory)
    with tempfile.TemporaryDirectory(dir=d) as tmp:
        (Path(tmp) / "q.tsq").write_bytes(request)
        _run(openssl() or "openssl", "ts", "-reply", "-config", str(d / "tsa.cnf"),
             "-queryfile", "q.tsq", "-out", "r.tsr", cwd=Path(tmp))
        return (Path(tmp) / "r.tsr").read_bytes()


@contextmanager
def local_tsa(directory: str | Path) -> Iterator[tuple[str, Path]]:
    """A TSA on ``127.0.0.1`` (a thread serving ``openssl ts -reply`` with its own test CA
    under ``directory``) for the duration of the block: yields (its URL, the root's PEM)."""
    root = make_test_ca(directory)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                with lock:
                    reply, code = tsa_reply(directory, body), 200
            except TimestampError as exc:
                reply, code = str(exc).encode(), 500
            self.send_response(code)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def demo_timestamp(ledger: str | Path, directory: str | Path,
                   outputs: str | Path | None = None) -> list[str]:
    """The demo's step: start a local TSA (OpenSSL, its own test CA under ``directory``),
    timestamp the ledger's current head, check the token against the test root, publish it
    under ``outputs`` (when given), stop the TSA. Returns the lines to print (a note when
    OpenSSL is missing)."""
    if openssl() is None:
        return [_("openssl is not installed: the ledger head is not timestamped (step skipped)")]
    with local_tsa(directory) as (url, root):
        head, ts = timestamp_ledger(ledger, tsa=url, trust=root, outputs=outputs)
    return [_("head {head} timestamped by the local test TSA at {time} ({tsa}); trust store "
              "{root} (dsr verify --tsa-trust {root})").format(
                  head=head, time=ts.gen_time, tsa=ts.tsa, root=root)]
