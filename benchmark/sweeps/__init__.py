"""Sweeps: a study (a named grid in ``params.yaml``) expands into runs; an executor runs them.

``study``: profiles and studies from params.yaml -> validated, resolved run configs.
``study_states``: what the results store holds for a study (done / failed / stale / missing / corrupt).
``worker``: the one function every executor calls for a run (writes a failure record on error).
``executors``: local process pool, Ray, SLURM via submitit, behind one interface.
``sweep``: states -> tasks -> executor, with a progress bar and a summary.

A finished run is never redone (its record is valid for the current code fingerprint); a
killed sweep resumes where it stopped (DomainBed's done-marker model, with the record as the
marker), and a long run resumes from its epoch checkpoint.
"""
