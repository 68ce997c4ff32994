from django.apps import AppConfig


class Config(AppConfig):
    name = "xiezuo.industry"
    label = "industry"
    default_auto_field = "django.db.models.BigAutoField"
