"""Parameters cell shared by the report notebooks (each spec embeds it with its default unit)."""


def params(unit: str = "xiongxian", extra: str = "") -> str:
    """The parameters cell; ``extra`` adds lines of the report's own parameters."""
    return f'''
quarter: str = "2023Q1"  # quarter reported, e.g. 2023Q1
unit: str = "{unit}"  # reporting unit: xiongan, xiongxian, rongcheng or anxin
policy: str = "xiongan-2023"  # policy file or name in parameters/policies/
registers: str = ""  # register directory; empty: the embedded synthetic sample
ledger: str = ""  # draw ledger (SQLite); empty: the demo draws, made in memory
results: str = ""  # results register (CSV/XLSX); required with a ledger
followups: str = ""  # follow-up file (CSV/XLSX): dated updates of the cases; empty: none
deliveries: str = ""  # report deliveries CSV (unit, quarter, report, date_delivered)
output_dir: str = ""  # directory for the documents (DOCX, PDF, XLSX); empty: write none
prepared: str = ""  # inputs read and validated once by dsr render; empty: read them here
{extra}_names = set(dir())  # the names before papermill's injected values (checked below)
'''


SETUP = '''
import pandas as pd
from IPython.display import Markdown, display

from dsr_analysis import official, reports
from dsr_analysis.documents import write_forms

pd.set_option("display.max_columns", 60)
pd.set_option("display.width", 200)
inputs = reports.load_report_inputs(quarter, policy, registers, ledger, results, deliveries,
                                    prepared=prepared{month}, followups=followups)
pol, q = inputs.policy, inputs.quarter
unit_name = pol.unit_names[unit]
'''


def setup(notebook: str) -> str:
    """The set-up cell of report ``notebook`` (the same for every report; the notice also
    passes its month)."""
    return SETUP.replace("{month}", ", month=month" if notebook == "notice" else "")


def check(notebook: str) -> str:
    """The cell after the parameters (and papermill's injected values): refuses a parameter
    the notebook does not declare."""
    return (
        "import dsr_analysis.notebook_params as _np\n\n"
        f'_np.check_parameters(set(dir()), _names, __annotations__, "notebooks/reports/{notebook}.ipynb")\n')
