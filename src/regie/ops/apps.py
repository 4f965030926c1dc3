from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "regie.ops"
    verbose_name = "regie ops"
