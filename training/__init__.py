"""Transfer learning, an optional extra (``pip install -e '.[train]'``): user-like views, a bottleneck cache of
backbone features, attribute and retrieval heads, grid search, evaluation and the embedding map.

It uses the runtime (``recommender`` and below); the runtime never imports it.
"""
