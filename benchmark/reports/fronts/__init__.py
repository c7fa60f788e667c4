"""``fronts STUDY``: accuracy–alignment fronts over guidance strength (issue 26 item 2; docs/statistics.md §1.22).

``analysis`` (the panels: mean points, front, hypervolumes, dominance tests), ``plot`` (one PNG per cell),
``markdown`` (``fronts.md``), ``writer`` (validation, ``fronts.json``, the atomic write)."""
