"""Stage 3, DR-SAPO: dual-route soft adaptive policy optimisation on the CogAudio model."""
