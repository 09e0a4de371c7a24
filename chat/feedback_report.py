"""What the kept ratings say (``fashionbot feedback report``): how many pages were liked, which photos got
the worst results, and which product types disappoint. Pure: ratings in, a report out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .feedback import Rating

WORST_SHOWN = 10


@dataclass(frozen=True)
class Tally:
    """Ratings of one photo or one product type: ``liked`` of ``rated``."""

    name: str
    rated: int
    liked: int
    filters: list[dict] = field(default_factory=list)  # for photos: the filters they were rated under

    @property
    def disliked_share(self) -> float:
        return (self.rated - self.liked) / self.rated if self.rated else 0.0


@dataclass(frozen=True)
class FeedbackReport:
    rated: int
    liked: int
    worst_photos: list[Tally]
    categories: list[Tally]  # most disappointing first

    @property
    def liked_share(self) -> float:
        return self.liked / self.rated if self.rated else 0.0

    def to_dict(self) -> dict:
        return {"rated": self.rated, "liked": self.liked, "liked_share": round(self.liked_share, 3),
                "worst_photos": [asdict(t) | {"disliked_share": round(t.disliked_share, 3)} for t in self.worst_photos],
                "categories": [asdict(t) | {"disliked_share": round(t.disliked_share, 3)} for t in self.categories]}

    def text(self) -> str:
        if not self.rated:
            return "No pages rated yet."
        disliked = self.rated - self.liked
        lines = [f"{self.rated} pages rated, {self.liked_share:.0%} liked ({self.liked} 👍, {disliked} 👎)."]
        if self.worst_photos:
            lines.append("\nWorst queries (most 👎 first):")
            for tally in self.worst_photos:
                used = "; ".join(", ".join(f"{k}={v}" for k, v in f.items()) for f in tally.filters if f) or "no filter"
                lines.append(f"  {tally.name}: {tally.rated - tally.liked} of {tally.rated} disliked ({used})")
        if self.categories:
            lines.append("\nProduct types by disappointment (share of 👎 pages they appeared on):")
            for tally in self.categories:
                lines.append(f"  {tally.name or '(no type)'}: {tally.disliked_share:.0%} of {tally.rated}")
        return "\n".join(lines)


def report(ratings: Sequence[Rating], worst: int = WORST_SHOWN) -> FeedbackReport:
    by_photo: dict[str, list[Rating]] = defaultdict(list)
    by_category: dict[str, list[bool]] = defaultdict(list)
    for rating in ratings:
        by_photo[rating.photo].append(rating)
        for category in dict.fromkeys(rating.categories):  # a page counts once per type it showed
            by_category[category].append(rating.liked)
    photos = [Tally(photo, len(rated), sum(r.liked for r in rated), _distinct(r.filters for r in rated))
              for photo, rated in by_photo.items() if any(not r.liked for r in rated)]
    photos.sort(key=lambda t: (-(t.rated - t.liked), -t.disliked_share, t.name))
    categories = [Tally(name, len(votes), sum(votes)) for name, votes in by_category.items()]
    categories.sort(key=lambda t: (-t.disliked_share, -t.rated, t.name))
    return FeedbackReport(len(ratings), sum(r.liked for r in ratings), photos[:worst], categories)


def _distinct(filters) -> list[dict]:
    found: list[dict] = []
    for item in filters:
        if item not in found:
            found.append(item)
    return found
