"""`python -m rejoin.bots`: see `rejoin.bots.cli`.

The command line draws with `rich`, which the SDK does not need: it comes with the `bots` extra.
Without it, one line says how to install that, instead of a traceback (exit 2, like any other
run that cannot start)."""

import sys

try:
    from rejoin.bots.cli import main
except ModuleNotFoundError as missing:
    if missing.name is None or missing.name.partition(".")[0] != "rich":
        raise
    print(
        "python -m rejoin.bots needs the load tool's extra, which brings rich: "
        "pip install 'rejoin-client[bots]'",
        file=sys.stderr,
    )
    raise SystemExit(2) from None

raise SystemExit(main())
