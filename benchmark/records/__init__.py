"""Records: run identity (config hash), code fingerprints, environment, the atomic JSON store of
records (``record_store``) and the state of each run in a folder (``run_states``)."""
