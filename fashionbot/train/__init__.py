"""Transfer learning: a bottleneck cache of backbone features, attribute and retrieval heads, grid search."""
