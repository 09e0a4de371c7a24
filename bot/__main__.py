"""``python -m bot``: the Telegram bot (what the Procfile's worker runs)."""

import sys

from .telegram.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
