"""CogAudio-LLM training pipeline (behind the `train` extra). Hands off to the app through files only."""
