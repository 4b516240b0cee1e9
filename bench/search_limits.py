"""What another user's words and a hostile query do to a search (``python -m bench.search_limits``).

*The oracle*: a user types, letter by letter, a word that only another user's library holds,
and, as the control, a word that nobody's library holds. Before the vocabulary was per owner,
the first answered in a few ms and the second spent 50-130 ms looking for words a typo away:
another user's album name could be read letter by letter. The ratio of the two medians is
the figure (1.0 is no signal).

*Hostile queries*: one word of 999 letters, 199 nonsense words, 32 one-letter prefixes; each
is timed once, with what it answered. Target: each answers (a result or a clear error)
within a second.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import string
import tempfile
import time
from datetime import datetime
from pathlib import Path

from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.app.root import build
from albumen.config import Settings
from albumen.domain.errors import AlbumenError
from albumen.domain.photos import NewPhoto
from albumen.domain.search import SearchFilters, SearchOrder

REPEATS = int(os.environ.get("BENCH_REPEATS", "5")) * 4
SECRET = "zanzibar"  # in the other user's library only
CONTROL = "qwzmtkvb"  # in nobody's
OTHERS_PHOTOS = 2000


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        built = build(Settings(data_dir=Path(tmp), run_workers_in_server=False))
        try:
            return _measure(built)
        finally:
            built.close()


def _measure(built) -> dict[str, object]:  # type: ignore[no-untyped-def]
    users, search = built.services.users, built.services.search
    alice, mallory = users.add("alice").user.id, users.add("mallory").user.id
    repo = SqlPhotoRepo(built.infrastructure.engine)
    rng = random.Random(3)
    for n in range(OTHERS_PHOTOS):
        name = f"{SECRET}_{n}.jpg" if n % 4 == 0 else f"{rng.choice(_WORDS)}_{n}.jpg"
        repo.add(NewPhoto(alice, name, "image/jpeg", 1, f"{n:064x}"), datetime(2024, 1, 1))
    repo.add(NewPhoto(mallory, "harbour.jpg", "image/jpeg", 1, "f" * 64), datetime(2024, 1, 1))

    def ask(user: str, q: str) -> tuple[float, str]:
        start = time.perf_counter()
        try:
            found = search.search(
                user, search.filters(q, SearchFilters()), SearchOrder.NEWEST, 50, None
            )
            answer = f"{len(found.page.photos)} photos"
        except AlbumenError as err:
            answer = f"error {err.code}"
        return (time.perf_counter() - start) * 1000, answer

    def typed(word: str) -> dict[str, float]:
        by_length = {}
        for length in range(3, len(word) + 1):
            ask(mallory, word[:length])  # warm-up
            times = [ask(mallory, word[:length])[0] for _ in range(REPEATS)]
            by_length[str(length)] = round(statistics.median(times), 3)
        return by_length

    others, nobodys = typed(SECRET), typed(CONTROL)
    ratios = [others[n] / nobodys[n] for n in others if nobodys[n]]
    hostile = {
        "999_letters": "b" * 999,
        "199_nonsense_words": " ".join(
            "".join(rng.choices(string.ascii_lowercase, k=4)) for _ in range(199)
        ),
        "32_one_letter_prefixes": " ".join(string.ascii_lowercase + "abcdef"),
    }
    answered = {}
    for name, q in hostile.items():
        ms, answer = ask(mallory, q)
        answered[name] = {"ms": round(ms, 1), "answer": answer, "target_ms": 1000}
    return {
        "oracle": {
            "another_users_word_ms_by_letters": others,
            "nobodys_word_ms_by_letters": nobodys,
            "median_ratio": round(statistics.median(ratios), 3),
            "target_ratio": "about 1.0",
        },
        "hostile": answered,
    }


_WORDS = ["beach", "harbour", "sunset", "party", "garden", "river", "castle", "kitchen"]

if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
