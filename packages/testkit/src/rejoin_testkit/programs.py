"""Finding the system programs the tests run beside the server (HAProxy, PgBouncer).

CI installs them from Debian (`.ci/run`), so a missing one fails the tests that need it, it never
skips them. Debian puts daemons in /usr/sbin, which is not on a user's PATH: that is looked in too.
"""

from __future__ import annotations

import os
import shutil

# Where a program is looked for after PATH, in this order.
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class ProgramMissing(AssertionError):
    """No such executable: an AssertionError, so a test that needs it fails (not skips)."""


def find_program(name: str, version: str = "") -> str:
    """The path of executable `name`: the first on PATH, else in /usr/sbin, /usr/local/sbin or
    /sbin. Raises `ProgramMissing` saying how to install it from Debian (`version`: which
    releases will do, e.g. "2.6 or newer")."""
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN_DIRS))
    if found is None:
        needed = f"{version}; " if version else ""
        raise ProgramMissing(
            f"{name} is not installed (looked on PATH and in {', '.join(SBIN_DIRS)}): install "
            f"it with `apt-get install -y {name}` ({needed}.ci/run does)"
        )
    return found
