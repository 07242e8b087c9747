"""`python -m rejoin.bots`: see `rejoin.bots.cli`."""

from rejoin.bots.cli import main

raise SystemExit(main())
