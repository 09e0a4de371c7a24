"""Trained artifacts shipped as package data (``fashion-head-v2.pt``); found through ``importlib.resources``."""
