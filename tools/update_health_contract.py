"""Write the canary's copy of the /health contract (tapinfra/runtime/health.py).

The canary is Node.js and cannot import the runtime, so it carries
``canary/nodejs/node_modules/tapHealthContract.json``: :func:`canary_contract_json` written
out. ``tests/test_contract.py`` fails when the file is stale; run
``.venv/bin/python tools/update_health_contract.py`` after changing the contract.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CANARY_CONTRACT = ROOT / "canary" / "nodejs" / "node_modules" / "tapHealthContract.json"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tapinfra.runtime.health import canary_contract_json

    text = canary_contract_json()
    if CANARY_CONTRACT.exists() and CANARY_CONTRACT.read_text(encoding="utf-8") == text:
        print(f"{CANARY_CONTRACT.relative_to(ROOT)} is current")
        return 0
    CANARY_CONTRACT.write_text(text, encoding="utf-8")
    print(f"wrote {CANARY_CONTRACT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
