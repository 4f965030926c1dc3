from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "regie.agreements"
    verbose_name = "Verwerkersovereenkomsten en licenties"

    def ready(self) -> None:
        from regie.nummervoorziening import client as nv

        from . import events  # noqa: F401  (declares the audit event types)
        from .services.declarations import declare_for_client

        # A supplier refused as undeclared: declare the hub's suppliers, then ask once more.
        nv.set_supplier_declarer(declare_for_client)
