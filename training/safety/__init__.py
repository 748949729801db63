"""Training side of the crisis check: the classifier head over the phrasing set (train_head.py)."""
