from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.talent"
    label = "talent"
    default_auto_field = "django.db.models.BigAutoField"
