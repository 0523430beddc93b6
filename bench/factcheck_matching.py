"""Fact-check matching: precision and recall on built claim pairs, across thresholds.

Each case is a published claim (stored as a ClaimReview), a paraphrase of it as an article
or an extracted claim would put it (must match), and a near miss on the same subject that
says something else (must not). Every paraphrase and near miss is also scored against
every other case's check (unrelated: must not match). Prints, per threshold, precision and
recall over all (text, check) pairs, plus the score distribution.

    .venv/bin/python bench/factcheck_matching.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.desk import factchecks  # noqa: E402
from pipeline.desk.factchecks import FactCheck, _Matcher, _save_check  # noqa: E402
from pipeline.store import Store  # noqa: E402

CASES = [
    (
        "Derek Hough released a never-before-seen dance video with the late Len Goodman.",
        "A previously unseen video shows Derek Hough dancing with Len Goodman before his death.",
        "Derek Hough announced a new tour of dance shows across America.",
    ),
    (
        "Carrie Ann Inaba shared a secret final message from Len Goodman.",
        "Len Goodman left Carrie Ann Inaba a hidden farewell message, she revealed.",
        "Carrie Ann Inaba said she will return as a judge next season.",
    ),
    (
        "Mark Ballas performed a tribute dance to Len Goodman on live television.",
        "On live TV, Mark Ballas danced a tribute to the memory of Len Goodman.",
        "Mark Ballas and his wife announced they are expecting a baby.",
    ),
    (
        "Taylor Swift donated $10 million to wildfire victims in Maui.",
        "Swift gave ten million dollars to people hit by the Maui wildfires, posts claim; Taylor Swift did so.",
        "Taylor Swift announced additional concert dates in Europe.",
    ),
    (
        "Keanu Reeves paid for the funeral of a stranger's child.",
        "Keanu Reeves covered the cost of a funeral for the child of a stranger.",
        "Keanu Reeves will star in a new John Wick spin-off.",
    ),
    (
        "Tom Hanks was arrested for trafficking in 2020.",
        "Actor Tom Hanks was arrested on trafficking charges in 2020, a viral post says.",
        "Tom Hanks tested positive for coronavirus in Australia in 2020.",
    ),
    (
        "Pope Francis endorsed Donald Trump for president.",
        "The Pope, Francis, has endorsed Donald Trump's bid for president.",
        "Pope Francis met Donald Trump at the Vatican.",
    ),
    (
        "Drinking hot water every 15 minutes kills the coronavirus.",
        "Sipping hot water every fifteen minutes will kill the coronavirus, a message claims.",
        "The coronavirus spreads through droplets when people cough.",
    ),
    (
        "5G towers spread COVID-19.",
        "COVID-19 is being spread by 5G phone towers.",
        "5G towers were installed across the city last year.",
    ),
    (
        "Bill Gates wants to implant microchips through vaccines.",
        "Vaccines will be used by Bill Gates to implant microchips in people.",
        "Bill Gates stepped down from the board of Microsoft.",
    ),
    (
        "Morgan Freeman died in a car crash last week.",
        "Reports say Morgan Freeman was killed in a car crash last week.",
        "Morgan Freeman narrated a new documentary about the ocean.",
    ),
    (
        "Jennifer Aniston is pregnant with twins at 54.",
        "At 54, Jennifer Aniston is expecting twins, a magazine says.",
        "Jennifer Aniston's new series premiered on Friday.",
    ),
    (
        "Barack Obama was born in Kenya.",
        "Former president Barack Obama's birthplace was Kenya, the post claims.",
        "Barack Obama visited Kenya in 2015 as president.",
    ),
    (
        "NASA confirmed the Earth will go dark for six days in December.",
        "NASA says Earth will have six days of total darkness this December.",
        "NASA launched a new telescope in December.",
    ),
    (
        "Eating garlic cures COVID-19.",
        "Garlic can cure COVID-19 if you eat it every day.",
        "Garlic prices rose sharply during the COVID-19 pandemic.",
    ),
    (
        "Celine Dion has died of stiff person syndrome.",
        "Singer Celine Dion died from stiff person syndrome, posts claim.",
        "Celine Dion performed at the opening of the Olympics in Paris.",
    ),
    (
        "Dolly Parton turned down the Presidential Medal of Freedom twice.",
        "Dolly Parton twice refused the Presidential Medal of Freedom.",
        "Dolly Parton released a rock album.",
    ),
    (
        "The Eiffel Tower was sold for scrap in 2023.",
        "In 2023 the Eiffel Tower was sold as scrap metal.",
        "The Eiffel Tower was repainted for the Olympics.",
    ),
    (
        "Joe Biden fell asleep during a meeting with the Israeli prime minister.",
        "During his meeting with Israel's prime minister, Joe Biden fell asleep.",
        "Joe Biden signed an infrastructure bill into law.",
    ),
    (
        "Elon Musk is giving away bitcoin to anyone who sends him cryptocurrency.",
        "Send cryptocurrency to Elon Musk and he will give you bitcoin back, the ad says.",
        "Elon Musk bought Twitter for $44 billion.",
    ),
    (
        "Prince Harry renounced his royal title.",
        "Prince Harry has given up his royal title for good.",
        "Prince Harry attended a charity polo match.",
    ),
    (
        "A shark was found swimming on a flooded highway in Houston.",
        "Photo shows a shark swimming along a flooded Houston highway.",
        "Houston highways were closed after heavy rain.",
    ),
    (
        "Lady Gaga lost her voice permanently after surgery.",
        "After surgery, Lady Gaga's voice is gone for good.",
        "Lady Gaga won an Oscar for best original song.",
    ),
    (
        "The Queen's corgis were given to Meghan Markle.",
        "Meghan Markle was handed the late Queen's corgis.",
        "Meghan Markle launched a lifestyle brand.",
    ),
    (
        "Drinking bleach cures autism.",
        "Autism can be cured by drinking bleach, a video claims.",
        "Autism diagnoses have risen over the past decade.",
    ),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as directory, Store(Path(directory) / "bench.db") as store:
        for index, (check, _, _) in enumerate(CASES):
            _save_check(store, FactCheck(f"https://example.org/check/{index}", check))
        factchecks.MATCH_THRESHOLD = 0.0  # score everything FTS5 retrieves; thresholds applied below
        matcher = _Matcher(store)
        pairs: list[tuple[float, bool, str]] = []  # (score, should match, kind)
        for index, (_, paraphrase, near_miss) in enumerate(CASES):
            for text, kind in ((paraphrase, "paraphrase"), (near_miss, "near miss")):
                scores = dict(matcher.match(text))
                for other in range(len(CASES)):
                    expected = kind == "paraphrase" and other == index
                    label = kind if other == index else "unrelated"
                    pairs.append((scores.get(other + 1, 0.0), expected, label))
    positives = sum(1 for _, expected, _ in pairs if expected)
    print(
        f"{len(CASES)} checks; {positives} paraphrase pairs, {len(CASES)} near misses, "
        f"{len(pairs) - positives - len(CASES)} unrelated pairs"
    )
    for kind in ("paraphrase", "near miss", "unrelated"):
        scores = sorted(score for score, _, label in pairs if label == kind)
        print(f"  {kind:10} scores: min {scores[0]:.2f}  median {scores[len(scores) // 2]:.2f}  max {scores[-1]:.2f}")
    print("threshold  precision  recall  false matches (near miss / unrelated)")
    for threshold in (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
        hits = [(expected, label) for score, expected, label in pairs if score >= threshold]
        true = sum(1 for expected, _ in hits if expected)
        near = sum(1 for expected, label in hits if not expected and label == "near miss")
        unrelated = sum(1 for expected, label in hits if not expected and label == "unrelated")
        precision = true / len(hits) if hits else 1.0
        print(f"  {threshold:.2f}       {precision:.3f}      {true / positives:.3f}   {near} / {unrelated}")


if __name__ == "__main__":
    main()
