"""Finding HAProxy, for the tests of `rejoin-server proxy-config` (`haproxy -c`, and a real proxy
in front of real nodes).

CI installs Debian's `haproxy` (`.ci/run`), so a missing one fails those tests, it never skips
them. Debian puts it in /usr/sbin, which is not on a user's PATH: that is looked in too.
"""

from __future__ import annotations

import os
import shutil

# Where HAProxy is looked for after PATH, in this order.
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class HaproxyMissing(AssertionError):
    """No HAProxy executable: an AssertionError, so a test that needs it fails (not skips)."""


def find_haproxy() -> str:
    """The path of the `haproxy` executable: the first on PATH, else in /usr/sbin,
    /usr/local/sbin or /sbin. Raises `HaproxyMissing` saying how to install it."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path=os.pathsep.join(SBIN_DIRS))
    if found is None:
        raise HaproxyMissing(
            f"haproxy is not installed (looked on PATH and in {', '.join(SBIN_DIRS)}): install "
            "it with `apt-get install -y haproxy` (2.6 or newer; .ci/run does)"
        )
    return found
