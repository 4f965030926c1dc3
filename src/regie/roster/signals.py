"""The roster's signals, for apps further down (which the roster cannot import)."""

from django.dispatch import Signal

# Sent when an import wrote pupils as left, in its transaction: ``student_ids`` (a list of pks).
students_left = Signal()
