from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "regie.roster"
    verbose_name = "Leerlingen en groepen"
