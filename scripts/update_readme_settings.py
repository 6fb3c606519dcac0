#!/usr/bin/env python
"""Write the settings table (``kiosk settings --markdown``) into README.md in place."""

from __future__ import annotations

from pathlib import Path

from kiosk.settings import markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"


def main() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| setting | default | allowed | environment | meaning |")
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    lines[start:end] = markdown_table().splitlines()
    README.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
