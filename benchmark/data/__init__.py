"""Data: dataset families build splits; the store saves, finds and loads them."""
