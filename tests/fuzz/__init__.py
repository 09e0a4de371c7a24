"""Property-based (hypothesis) tests of the inputs strangers control: feed files and image bytes."""
