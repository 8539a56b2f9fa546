"""The check every parameterised notebook makes of the parameters it was given.

A notebook's ``parameters`` cell declares its parameters with annotations (``unit: str =
"xiongxian"``) and ends with ``_names = set(dir())``; papermill injects the given values in a
cell after it. :func:`check_parameters`, called first thing after, refuses a name that is
not a declared parameter - ``-p unti anxin`` must not quietly render the default unit.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from .errors import ParameterError
from .i18n import _


def check_parameters(names_now: Iterable[str], names_before: Iterable[str],
                     declared: Mapping[str, object], notebook: str) -> None:
    """Raise :class:`ParameterError` naming every unknown parameter (with the closest
    valid one) and listing the valid ones."""
    valid = sorted(declared)
    unknown = sorted(n for n in set(names_now) - set(names_before)
                     if not n.startswith("_") and n not in declared)
    if not unknown:
        return
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, valid, n=1)
        parts.append(_("'{name}' (did you mean '{close}'?)").format(name=name, close=close[0])
                     if close else f"'{name}'")
    raise ParameterError(_("{notebook}: unknown parameter {names}; the parameters are: "
                           "{valid}").format(notebook=notebook, names=", ".join(parts),
                                             valid=", ".join(valid)))
