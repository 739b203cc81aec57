"""Regenerate runner/migrations/versions/0001_initial_schema.py from the models.

Only while no release exists: afterwards every schema change is a new, additive revision.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command

from runner.db import alembic_config

VERSIONS = Path(__file__).resolve().parent.parent / "runner" / "migrations" / "versions"


def main() -> None:
    target = VERSIONS / "0001_initial_schema.py"
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/empty.db"
        command.revision(
            alembic_config(url), message="initial schema", autogenerate=True, rev_id="0001"
        )
    text = target.read_text()
    text = re.sub(r"runner\.models\.UTCDateTime\([^)]*\)", "sa.DateTime(timezone=True)", text)
    text = text.replace("sqlmodel.sql.sqltypes.AutoString()", "sa.String()")
    text = re.sub(r"^import sqlmodel\n", "", text, flags=re.M)
    text = re.sub(r"^Create Date: .*\n", "", text, flags=re.M)
    text = text.replace("Revises: \n", "Revises:\n")
    target.write_text(text)
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run(
        [str(ruff), "check", "--fix", "-q", str(target)], check=False, capture_output=True
    )
    subprocess.run([str(ruff), "format", "-q", str(target)], check=True)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
