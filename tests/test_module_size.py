"""Modules stay small enough to read in one sitting: nothing in `src/aphub/` over 450
lines, except the demo area's data (`aphub/demo/`), which is a list of fictional records."""

from __future__ import annotations

from pathlib import Path

import aphub

LIMIT = 450
SOURCE = Path(aphub.__file__).parent


def oversized(root: Path, limit: int) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] == "demo":
            continue
        lines = len(path.read_text().splitlines())
        if lines > limit:
            found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_module_is_over_the_limit() -> None:
    assert oversized(SOURCE, LIMIT) == []


def test_the_check_finds_a_long_module(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "data.py").write_text("x = 1\n" * 20)
    (tmp_path / "short.py").write_text("x = 1\n" * 10)
    (tmp_path / "long.py").write_text("x = 1\n" * 11)
    assert oversized(tmp_path, 10) == ["long.py: 11 lines"]
