from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.pairings"
    label = "pairings"
    default_auto_field = "django.db.models.BigAutoField"
