"""Signals of the orders: other apps follow an order without this app knowing them.

- :data:`order_changed` is sent by :func:`regie.orders.services.transition` after an order's state
  changed (in the same transaction, before the receipt that caused it is stored), with
  ``order`` (the order as it is now) and ``previous`` (its state before). A receiver that fails
  undoes the change: keep receivers small.
"""

from django.dispatch import Signal

order_changed = Signal()
