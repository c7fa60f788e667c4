"""Data: dataset families build splits; ``dataset_store`` saves, finds and loads them."""
