"""Make the helpers next to this file importable (``import reference_evaluator``).

``tests`` is not a package, so the import must not depend on pytest's import mode.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
