"""dlrepro: seeded experiments that test the claims of deep-learning study notes."""
__version__ = "0.1.0"
