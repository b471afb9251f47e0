"""``python -m tams_cli``: the same as ``tams``."""

from tams_cli._app import main

main()
