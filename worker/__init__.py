"""Smart-manufacturing training event syndication worker."""

__version__ = "0.1.0"
PRODUCT_URL = "https://github.com/smartmfg/events-worker"
USER_AGENT = f"smartmfg-events-worker/{__version__} (+{PRODUCT_URL})"
