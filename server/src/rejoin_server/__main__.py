"""`python -m rejoin_server`: the same as the `rejoin-server` command."""

import sys

from rejoin_server.cli import main

sys.exit(main())
