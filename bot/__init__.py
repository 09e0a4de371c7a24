"""The front doors: Telegram (``bot/telegram/``, ``python -m bot``) and Discord (``bot/discord/``, an optional
extra: ``pip install -e '.[discord]'``), side by side over the same conversation core (``chat/``).

Importing this package imports neither platform's library; nothing else of ours imports ``bot``.
"""
