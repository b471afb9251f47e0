"""``python -m tams_server``."""

from tams_server.cli import main

main()
