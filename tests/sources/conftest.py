from datetime import UTC, datetime

import pytest

from harvester.config import load_config
from harvester.names.matcher import AliasMatcher
from harvester.sources import source_class
from harvester.sources.base import SourceContext

NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture
def make_source():
    config = load_config()
    matcher = AliasMatcher(config.target.name, config.target.aliases)

    def make(kind: str, now: datetime = NOW, http=None, **overrides):
        settings = config.sources[kind]
        for key, value in overrides.items():
            setattr(settings, key, value)
        return source_class(kind)(SourceContext(kind, settings, matcher, http, now))

    return make
