"""``python -m benchmark doctor``: the pre-flight checks a person runs first on a new (GPU) machine.

One verdict per check (PASS, FAIL, or SKIP with its reason), computed by small functions in this
package: the device facts (``facts``), one fp32 and one bf16 training step of every method on every
architecture asked for through the real ``train_step`` (``steps``), a 2-run sweep with ``--jobs auto``
and a resumed checkpoint (``pipeline``). ``checks.run_checks`` runs them in that order; a check that
raises is a FAIL naming the exception, and the others still run.
"""
