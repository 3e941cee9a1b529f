"""Field labels in the entry's own language: a Chinese entry reads 时间 / 地点 / 主办单位."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "when": "When", "where": "Where", "organizers": "Organizers",
        "participants": "Participants", "topics": "Topics", "sources": "Sources",
        "undated": "Date not announced", "venue": "Venue", "calendar": "Add to calendar",
    },
    "zh": {
        "when": "时间", "where": "地点", "organizers": "主办单位", "participants": "参与单位",
        "topics": "主题", "sources": "来源", "undated": "日期待定", "venue": "会场",
        "calendar": "添加到日历",
    },
}  # fmt: skip


def labels_for(lang: str | None) -> dict[str, str]:
    """Chinese labels for a Chinese entry; English for English and mixed ones."""
    return LABELS["zh"] if lang == "zh" else LABELS["en"]
