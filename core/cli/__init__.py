"""The `cogaudio` command-line interface (GUI-free subcommands)."""
