"""The emotion vocabulary: labels, intensities and prosody profiles (labels) and the EIPS
reasoning format (eips). Written down for people in docs/emotions.md.
"""
