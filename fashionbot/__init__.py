"""The ``fashionbot`` command: build and inspect indexes, recommend, the demo, the playground, benchmarks, and
(with the ``train`` extra) training, evaluation and the embedding map. Nothing else imports it."""
