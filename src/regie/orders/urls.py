"""The orders' URLs: the supplier-facing receipt endpoint and the privacy officer's pages."""

from __future__ import annotations

from django.urls import path

from . import pages, receipts

app_name = "orders"

urlpatterns = [
    path("orders/receipts", receipts.receive, name="receipts"),
    path("privacy/opdrachten/", pages.order_list, name="list"),
    path("privacy/opdrachten/<uuid:order_id>/", pages.order_detail, name="detail"),
    path("privacy/opdrachten/<uuid:order_id>/opnieuw/", pages.order_retry, name="retry"),
    path("privacy/opdrachten/<uuid:order_id>/annuleren/", pages.order_cancel, name="cancel"),
    path(
        "school/leerlingen/<int:student_id>/verwijderen/<int:supplier_id>/",
        pages.erasure,
        name="erasure",
    ),
]
