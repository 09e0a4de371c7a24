"""Trained artifacts shipped as package data (``fashion-head-v3.pt``, the pose models in ``pose/``); found through
``importlib.resources``."""
