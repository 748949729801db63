"""CogAudio core: everything a spoken conversation needs, free of Qt and torch."""

__version__ = "0.1.0"
