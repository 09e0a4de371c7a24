"""The bundled demo, shipped as package data: a Merchant Center feed of 808 products (``catalog.csv`` with its
``images/``) and user-like example photos (``photos/``); found through ``importlib.resources``."""
