from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "xiezuo.assessment"
    label = "assessment"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "assessment"
