"""Fail when a JUnit report holds any skipped test, naming them (PostgreSQL ones first)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    root = ET.parse(path).getroot()
    cases = list(root.iter("testcase"))
    skipped = [
        f"{case.get('classname')}::{case.get('name')}"
        for case in cases
        if case.find("skipped") is not None
    ]
    if not cases:
        print(f"{path}: no test ran", file=sys.stderr)
        return 1
    if skipped:
        skipped.sort(key=lambda name: "postgres" not in name)
        print(f"{len(skipped)} skipped test(s); CI counts a skip as a failure:", file=sys.stderr)
        for name in skipped:
            print(f"  {name}", file=sys.stderr)
        return 1
    print(f"{len(cases)} tests ran, none skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
