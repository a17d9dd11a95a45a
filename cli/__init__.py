"""The ``sluice`` command: the gateway's HTTP API from a shell (``python -m cli``)."""
