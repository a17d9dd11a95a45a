"""``python -m cli``: the ``sluice`` command without its console script."""

from cli.main import main

raise SystemExit(main())
