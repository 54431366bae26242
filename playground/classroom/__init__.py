"""The class board: classes, students' submissions and their ranking, stored through SQLAlchemy.

`db` (the engine: SQLite in the data folder, or PLAYGROUND_DB_URL), `schema` (tables and migrations),
`checks` (what is accepted, and the keys), `board` (what teachers and students do), `ranking` (the
board's order).
"""

from .board import Board, ClassInfo, Seat, Submission
from .checks import BoardError
from .db import engine
from .ranking import higher_is_better, main_metric, metric_names, ranked, setup_metric

__all__ = ["Board", "BoardError", "ClassInfo", "Seat", "Submission", "engine", "higher_is_better", "main_metric",
           "metric_names", "ranked", "setup_metric"]
