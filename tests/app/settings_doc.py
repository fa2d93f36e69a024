#!/usr/bin/env python3
"""Checks that docs/api.md's settings table is what spur-app prints for it.

    settings_doc.py SPUR_APP DOC [--write]

The table sits between the lines `<!-- settings:begin -->` and `<!-- settings:end -->` of DOC;
`SPUR_APP settings` prints it from the table in app/settings.cpp. When they differ, the exit
status is 1 and the unified diff shows what the docs lack (+) and what they have that the
binary does not (-). --write puts the binary's table into DOC instead. On success it prints
`settings table matches`.
"""

import difflib
import subprocess
import sys
from pathlib import Path

BEGIN = "<!-- settings:begin -->\n"
END = "<!-- settings:end -->\n"


def main() -> int:
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--write"):
        print(__doc__, file=sys.stderr)
        return 2
    binary, doc = sys.argv[1], Path(sys.argv[2])
    generated = subprocess.run([binary, "settings"], check=True, capture_output=True, text=True).stdout
    text = doc.read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        print(f"{doc}: needs one line {BEGIN.strip()} and, after it, one line {END.strip()}", file=sys.stderr)
        return 1
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END)
    documented = text[start:end]
    if documented == generated:
        print("settings table matches")
        return 0
    if len(sys.argv) == 4:
        doc.write_text(text[:start] + generated + text[end:], encoding="utf-8")
        print(f"{doc}: settings table written")
        return 0
    sys.stdout.writelines(difflib.unified_diff(documented.splitlines(keepends=True), generated.splitlines(keepends=True),
                                               f"{doc} (settings section)", f"{binary} settings"))
    print(f"\n{doc}'s settings table differs from `spur-app settings` (app/settings.cpp): "
          f"run `{sys.argv[0]} {binary} {doc} --write`")
    return 1


if __name__ == "__main__":
    sys.exit(main())
