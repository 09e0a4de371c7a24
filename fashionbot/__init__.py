"""fashionbot application layer: settings, the index build pipeline, the recommender service, the CLI."""
