import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pacte.settings")
application = get_wsgi_application()

# Import every view (and the engines behind them: OpenDP, statsmodels, Fairlearn…) now, once,
# so that with `gunicorn --preload` the workers are forked warm instead of paying it on a request.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
