"""The portal follows the orders a rights request fanned out (connected in
:meth:`regie.portal.apps.PortalConfig.ready`)."""

from __future__ import annotations

from typing import Any

from regie.orders.models import Order


def order_changed(sender: Any, *, order: Order, previous: str, **kwargs: Any) -> None:
    from . import requests

    requests.order_changed(order, previous)
