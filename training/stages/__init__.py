"""SFT stages 1 (explicit EIPS) and 2 (implicit internalisation): config, data, loop, CLI."""
