"""Renders COUNT django-simple-captcha images with the package's defaults: OUT/N.png and OUT/labels.tsv."""
import random
import sys

import django
from django.conf import settings

count, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "captcha"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
)
django.setup()
from django.core.management import call_command  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from captcha.models import CaptchaStore  # noqa: E402
from captcha.views import captcha_image  # noqa: E402

call_command("migrate", verbosity=0)
random.seed(seed)
request = RequestFactory().get("/captcha/image/")
labels = []
for i in range(count):
    key = CaptchaStore.generate_key()
    store = CaptchaStore.objects.get(hashkey=key)
    with open(f"{out}/{i}.png", "wb") as f:
        f.write(captcha_image(request, key).content)
    labels.append(f"{i}.png\t{store.response}")
with open(f"{out}/labels.tsv", "w") as f:
    f.write("\n".join(labels) + "\n")
