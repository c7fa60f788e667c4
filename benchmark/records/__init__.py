"""Records: run identity (config hash), code fingerprints, environment, atomic JSON store."""
