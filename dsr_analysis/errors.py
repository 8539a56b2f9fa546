"""Exceptions of dsr_analysis: one base class, one subclass per kind of failure."""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import ngettext


class DsrError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Attributes
    ----------
    file : str
        Path of the file (as given).
    row : int
        Row number as a spreadsheet shows it (the header row is row 1); 0 for the whole file.
    column : str
        Column name as it appears in the file (or the canonical name if the column is missing).
    message : str
        What is wrong, with the offending value and what would be valid.
    """

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


class RegisterError(DsrError):
    """Bad register data. Carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        n = len(self.problems)
        head = ngettext("{n} problem(s) in the registers:", "{n} problem(s) in the registers:",
                        n).format(n=n)
        super().__init__(f"{head}\n{lines}")


class PolicyError(DsrError):
    """Bad policy file: unknown, missing or out-of-range key (message names file and key)."""


class QuarterError(DsrError):
    """A quarter label that is not of the form 2023Q1."""


class InfeasibleError(DsrError):
    """A plan or draw that cannot satisfy its constraints (names task, constraint, numbers)."""


class CalendarError(DsrError):
    """A working-day question the calendar cannot answer (unknown year, no holiday file)."""


class LedgerError(DsrError):
    """A draw ledger that fails verification."""


class ParameterError(DsrError):
    """A notebook or report parameter that is unknown or of the wrong type."""


class FileSystemError(DsrError):
    """The operating system refused a file operation (permissions, a full disk, a path that is
    a directory or not a regular file); the message names the path and the reason. Exit 3."""


class ProtocolError(DsrError):
    """A draw that the protocol does not allow (no commitment, changed inputs, no reason)."""


class ImportRefusedError(LedgerError):
    """Another bureau's published draws that cannot be imported (tampered, wrong head, a unit
    of this ledger's own); the message names every problem. Nothing was written."""


class RenderError(DsrError):
    """A report notebook failed; the message names report, unit, quarter and cell."""


class FieldworkError(DsrError):
    """A request ``dsr tasks`` cannot serve (a quarter or unit without a draw)."""


class PlanError(DsrError):
    """A plan publication or amendment the rules do not allow (nothing was written)."""


class PlanExistsError(ParameterError):
    """A plan would overwrite an existing policy file it may not (or without being told to)."""


class ItemListError(DsrError):
    """An item list that cannot be published (nothing was written)."""


class DocumentDateError(DsrError):
    """A document date that is in the future or not a working day (nothing was written)."""


class DocumentError(DsrError):
    """Content that no form can show (a bad heading level, a percent column that is not in
    the table, a header of more than two levels); the message names the item."""


def os_message(exc: OSError) -> str:
    """An :class:`OSError` as one line: the path(s) and the operating system's reason."""
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    reason = exc.strerror or str(exc)
    return f"{paths}: {reason}" if paths else reason
