"""``dsr timestamp``: an RFC 3161 timestamp token over the ledger's current head."""

from __future__ import annotations

import argparse
import os

from .cli import add_ledger, add_outputs, outputs_dir
from .i18n import _
from .timestamps import PUBLIC_TOKENS, TRUST_ENV, timestamp_ledger


def cmd_timestamp(args: argparse.Namespace) -> int:
    head, ts = timestamp_ledger(args.ledger, tsa=args.tsa, request=args.request,
                                response=args.response, trust=args.tsa_trust,
                                outputs=outputs_dir(args))
    if ts is None:
        print(_("wrote the timestamp request over the head {head} to {path}: send it to the "
                "TSA, then store its reply with dsr timestamp --response FILE").format(
                    head=head, path=args.request))
        return 0
    print(_("ledger {ledger}: head {head} timestamped at {time} (UTC) by {tsa}; token #{id} "
            "stored in the ledger").format(ledger=args.ledger, head=ts.head, time=ts.gen_time,
                                           tsa=ts.tsa, id=ts.id))
    print(_("published with the ledger's public chain: {path}").format(
        path=outputs_dir(args) / PUBLIC_TOKENS / f"token-{ts.id}.tsr"))
    if not (args.tsa_trust or os.environ.get(TRUST_ENV)):
        print(_("the TSA's signature was not checked: no trust store (--tsa-trust FILE or "
                "{env}); dsr verify checks it once one is given").format(env=TRUST_ENV))
    return 0


def timestamp_parser(p: argparse.ArgumentParser) -> None:
    add_ledger(p)
    add_outputs(p, help=_("where the tokens are published (ledger-public/timestamps/; "
                          "default: the ledger's folder)"), by_ledger=True)
    p.add_argument("--tsa", metavar="URL",
                   help=_("the time-stamping authority's URL (RFC 3161 over HTTP)"))
    p.add_argument("--request", metavar=_("FILE"),
                   help=_("write the timestamp request (DER .tsq) for a TSA reached by another "
                          "tool; nothing is stored"))
    p.add_argument("--response", metavar=_("FILE"),
                   help=_("store the TSA's reply (DER .tsr) obtained by another tool"))
    p.add_argument("--tsa-trust", metavar=_("FILE"),
                   help=_("PEM file of the trusted TSA root certificates (default: the file "
                          "named by {env})").format(env=TRUST_ENV))
    p.set_defaults(func=cmd_timestamp)
