from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "regie.core"
    verbose_name = "regie"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the data-category system check)
