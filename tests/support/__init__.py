"""What the tests share: fixtures, fakes, and the helpers of bench/ and scripts/.

This package is the one place bench/ and scripts/ go on the import path; tests
import their helpers from ``support.*``, never from those folders directly.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"

for _folder in ("bench", "scripts"):
    if str(ROOT / _folder) not in sys.path:
        sys.path.insert(0, str(ROOT / _folder))
