from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.funds"
    label = "funds"
    default_auto_field = "django.db.models.BigAutoField"
