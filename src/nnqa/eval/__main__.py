"""`python -m nnqa.eval [--json]`: every report over ./knowledge and the sets in tests/data."""

import json
import sys

from ..tutor import Tutor
from .reports import all_reports


def main(argv: list[str]) -> int:
    reports = all_reports(Tutor())
    if "--json" in argv:
        print(json.dumps({k: v.to_dict() for k, v in reports.items()}, indent=2))
    else:
        for name, rep in reports.items():
            print(f"== {name} ==\n{rep}\n")
    return 0


sys.exit(main(sys.argv[1:]))
