from django.contrib.admin.apps import AdminConfig


class OsseoAdminConfig(AdminConfig):
    """The stock admin app with our site (a dashboard for a home page)."""

    default_site = "osseo_mdt.admin_site.OsseoAdminSite"
