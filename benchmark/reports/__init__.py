"""Reports: files made from a study's records and statistics (the last step of the data flow).

- ``formatting``: numbers, p-values, intervals, Markdown tables and JSON leaves as every report prints them.
- ``study``: reads a study's records, writes its statistics files (``results/leaderboards/STUDY.*``, the
  typed ``STUDY.tables.json`` and the figures) and its summary (``results/summaries/STUDY.*``).
- ``leaderboard``: reads the statistics files and the submissions' claims, writes the leaderboard pages
  (``results/leaderboard.html``, ``results/leaderboard.md``, ``results/leaderboard/STUDY.html``).
- ``claims``: reads ``claims/PAPER.yaml`` and the studies' records, writes the claims tables
  (``results/claims/``) and ``results/README.md``.
- ``curves``: reads an annotation study's records, writes each method's metric against the annotation budget and
  quality levels (``results/curves/STUDY/``, docs/statistics.md §1.21).
"""
