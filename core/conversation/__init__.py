"""The conversation: the turn orchestrator and its stages, the frames they pass, the stage
framework, the turn recorder, the history that fits the context, the streaming sentence splitter.
"""
