"""Test helpers shared across test packages: the Bot API emulator, fakes and factories."""
