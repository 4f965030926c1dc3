"""The gradebook endpoints, included by the root URL map at ``ims/oneroster/gradebook/v1p2/``."""

from .api import api

urlpatterns = api.urls[0]
app_name = "gradebook"
