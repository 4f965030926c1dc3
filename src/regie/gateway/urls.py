from django.urls import path

from . import views

app_name = "gateway"

urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="discovery"),
    path("jwks", views.jwks, name="jwks"),
    path("authorize", views.authorize, name="authorize"),
    path("token", views.token, name="token"),
    path("userinfo", views.userinfo, name="userinfo"),
    path("introspect", views.introspect, name="introspect"),
    path("logout", views.end_session, name="logout"),
]
