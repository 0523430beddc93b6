"""Where to confirm a claim ("check with"), built from the claim's roles.

The roles come from the sentence: who said it (a person before or after a speech verb), whom it
is about (the other people it names), on which platform, through which outlet or programme. A
capitalised name is a person only when it reads as one: dates, holidays, events, groups,
places and titles ("Christmas Eve", "Kids' Choice Awards", "the Rolling Stones", "Los Angeles",
the film "Roman J. Israel, Esq.") never get a person's representatives or verified account. An
obituary or estate is named only for someone the article's death register holds dead; where
nothing better is known, the line is a plain instruction.
"""

from __future__ import annotations

import re

from pipeline.text import NON_PERSON, SPEECH_VERBS

__all__ = [
    "check_with",
    "claim_kind",
    "cited_source",
    "is_person",
    "name_kind",
    "opens_sentence",
    "person_name",
    "STATISTIC",
    "CREDIT_AFTER",
    "CREDIT_BEFORE",
]

_DEATH_EVENT = re.compile(r"(?=[dpf])\b(?:died|dies|passed away|death|funeral)\b")
_BROADCAST = re.compile(
    r"(?=[iabspetdrGT])\b(?:interview(?:s|ed)?|appear(?:ed|ance) on|broadcast|aired|episode|podcast|press conference|"
    r"segment|told (?:reporters|the [A-Z]\w+)|said on|spoke (?:to|on|with))\b|\b(?:Good Morning America|GMA|Today|The View|"
    r"Tonight Show|Late Show|60 Minutes|BBC|CNN|NBC|ABC|CBS|Fox News|ITV|Sky News)\b"
)
_SOCIAL = re.compile(
    r"(?=[ptcsIYTFXh#])\b(?:posted|tweeted|captioned|shared|post|tweet|story|reel|hashtag)\b|#\w+|"
    r"\b(?:YouTube|Instagram|Twitter|TikTok|Facebook|Threads)\b"
)
_RELEASE = re.compile(
    r"(?=[rpulsdna])\b(?:releas(?:ed|es|ing)|premier(?:ed|es)|unveil(?:ed|s)|launch(?:ed|es)|streaming|"
    r"dropped|announced|available)\b"
)
_VIRAL = re.compile(r"(?=[vtma])\b(?:views|trending|trended|amassed|millions of|viral)\b")
# A post someone made, for where to check it: stricter than the claim's kind ("shared a home" is no post).
_SOCIAL_POST = re.compile(
    r"\b(?:posted|tweeted|captioned|reel|hashtags?|(?:shared|posted|wrote) (?:on|online|to)\b|"
    r"shared (?:a|an|the|his|her|their) (?:post|video|photo|clip|picture|message|statement|story|thoughts))\b|#\w+|"
    r"\b(?:YouTube|Instagram|Twitter|TikTok|Facebook|Threads)\b"
)
# A death the sentence reports as hearsay: the person may well be alive.
_HEARSAY = re.compile(r"\b(?:[Rr]umou?r(?:s|ed)?|hoax|false(?:ly)?|denie[sd]|deny|reports? (?:that|of))\b")
_KINDS = (("death", _DEATH_EVENT), ("broadcast", _BROADCAST), ("viral", _VIRAL), ("social", _SOCIAL), ("release", _RELEASE))

_PLATFORM = re.compile(r"(?=[YITFX])\b(?:YouTube|Instagram|Twitter|TikTok|Facebook|X|Threads)\b")
_SHOW = re.compile(r"(?=o)\bon (?P<show>(?:[A-Z0-9][\w’'!-]+ ?){1,5})")
_SOURCE = re.compile(r"(?=[aA])\baccording to (?P<source>[^,.;:“”\"]{3,80})", re.IGNORECASE)
_ANONYMOUS = re.compile(
    r"\b(?:insiders?|sources?|anonymous|people familiar|person familiar|someone|a friend|friends|an? (?:aide|employee|"
    r"staffer|member))\b",
    re.IGNORECASE,
)
STATISTIC = re.compile(
    r"(?=[\d$mbtMBT])(?:\d+(?:\.\d+)?\s*(?:%|percent)|\$\s?\d|\b\d+(?:,\d{3})+\b|\b(?:million|billion|trillion)\b)", re.IGNORECASE
)
_MEDIA = re.compile(r"(?=[vcfrspt])\b(?:video|clip|clips|footage|film|reels?|recording|performance|rehearsal|screening|tape)\b")
_HOLDER = re.compile(r"\b(?:studio|vault|archive|academy|theatre|theater)\b")
_UNNAMED_SPEAKER = re.compile(r"(?=[oO])\b[Oo]ne (?P<role>fan|viewer|user|critic|observer|team member|source|insider|dancer)\b")
# Capitalised spans: the programmes, organisations, works and places a sentence names.
_NAMED = re.compile(r"(?:(?<=[\s“‘\"(])|^)[A-Z][\w’'.&-]*(?:\s(?:(?:of|the|with|from|for)\s)*[A-Z][\w’'.&-]*)*")
# Plural nouns that start sentences ("Fans mourned…"): capitalised, never a name.
_COMMON_PLURALS = frozenset(
    """Fans Viewers Users People Critics Officials Students Parents Experts Reports Rumours Rumors Sources
    Insiders Witnesses Residents Followers Supporters Others Many Some Both Friends Neighbours Neighbors
    Organisers Organizers Tributes Clips Photos Videos Screenshots Messages Comments Dancers Singers""".split()
)
_NOT_NAMES = frozenset(
    """The A An As At In On When What Who Their They He She His Her It Its This That And But For From
    Another Every Each One Within After Before""".split()
)

# Words that make a capitalised name something other than a person.
_DATE_WORDS = frozenset(
    """Christmas Eve Easter Halloween Thanksgiving Hanukkah Diwali Ramadan Eid Passover Valentine Valentine’s
    Valentine's Year Day Days Night Nights Week Weekend Spring Summer Autumn Fall Winter
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July
    August September October November December Independence Memorial Labor Labour Boxing""".split()
)
_EVENT_WORDS = frozenset(
    """Awards Award Festival Fest Games Olympics Olympic Cup Championship Championships Gala Prize Tour Concert
    Bowl Open Expo Summit Conference Ceremony Oscars Grammys Emmys Tonys Globes BAFTAs BAFTA Marathon Parade
    Fair Con Met Eurovision Coachella Glastonbury Premiere Telethon Jubilee""".split()
)
_GROUP_WORDS = frozenset(
    """Band Brothers Sisters Boys Girls Kids Crew Orchestra Choir Ensemble Family Fans Team Players Club
    Network Studios Records Pictures Entertainment Productions Foundation Trust Society Association League
    Arts Sciences Police Army Navy Government Ministry Council Committee Party Union Company Corporation Inc Ltd Group
    Netflix Disney Hulu HBO Amazon Apple Spotify Sony Warner Universal Paramount""".split()
)
# Venue and territory words, never in a person's name; and those that end a place's name but
# can be a surname ("Arsenio Hall", "Grace Park").
_PLACE_WORDS = frozenset(
    """City County State Street Avenue Arena Stadium Theatre Theater Hotel Island Islands Beach Valley
    Mountain Mountains Square Airport Station Cathedral Abbey Kingdom Republic Ballroom Coliseum""".split()
)
_PLACE_ENDINGS = frozenset(
    """Park Hall Hill Hills Garden Gardens Bridge Lake River Bay Coast Town Village Heights Palace Castle Road""".split()
)
_PLACES = frozenset(
    """Los Angeles|New York|London|Paris|Hollywood|Las Vegas|Vegas|Chicago|Nashville|Tokyo|Miami|Texas|California|
    Florida|Atlanta|Boston|Toronto|Sydney|Berlin|Rome|Madrid|Dublin|Manchester|Liverpool|Broadway|Brooklyn|
    Malibu|Beverly Hills|England|Scotland|Ireland|Wales|Canada|Mexico|Australia|Japan|China|India|France|
    Germany|Italy|Spain|America|Britain|Great Britain|Europe|Africa|Asia|Seattle|Denver|Dallas|Houston|
    Austin|Orlando|Philadelphia|San Francisco|San Diego|New Orleans|Memphis|Detroit|Hawaii|Mumbai|Seoul|
    Washington D.C.|Ohio|Georgia|Tennessee|Oklahoma|Utah|Arizona|Nevada|Alaska|Vancouver|Montreal|
    Melbourne|Auckland|Glasgow|Edinburgh|Birmingham|Bristol|Leeds|Cardiff|Belfast|U.S|U.K|U.S.A|UK|US|USA""".replace(
        "\n", ""
    ).split("|")
)
_TITLE_BEFORE = re.compile(
    r"\b(?:film|films|movie|series|show|album|song|single|book|novel|documentary|musical|play|sitcom|drama|special|"
    r"memoir|biopic|track|titled|called|named|starring in|role in|cast of|sequel to)\s+(?:the\s+)?[“‘\"']?$"
)
_THE_BEFORE = re.compile(r"\b[Tt]he\s+$")
# Peoples and followers ("African Americans", "Orthodox Christians"): a group.
_DEMONYMS = re.compile(r"(?:ic|i|e)ans$")
# Photo credits and picture libraries ("Getty", "Movie Collection/Getty Images"): a caption, never
# a person or an office to call.
_CREDIT_WORDS = frozenset(
    "Getty Images Shutterstock Alamy WireImage FilmMagic Corbis Collection Photo Photos Credit Courtesy".split()
)
# A closing quote inside a name ends a quoted title before it ("‘Dream Girl’ Jennifer Hudson");
# a plural possessive ("Girls’") is no quote.
_CLOSING_QUOTE = re.compile(r"(?<!s)['’”\"]$")
# Words that open web copy and headlines before a name ("Follow Mike", "Longtime Clinton foe"),
# read as a name's first word only mid-sentence.
_OPENING_WORDS = frozenset(
    """follow watch add read see click sign subscribe share check meet find get join listen shop scroll tap
    learn longtime former veteran embattled disgraced beloved legendary iconic late""".split()
)
# A photographer's or library's credit around a name: "Photo: Ann Lee", "Ann Lee / Getty Images".
CREDIT_BEFORE = re.compile(r"\b(?:Photo|Photograph|Picture|Image|Credit|Courtesy)(?: of| by)?:?\s+$", re.IGNORECASE)
CREDIT_AFTER = re.compile(r"\s*/\s*(?:[A-Z][\w.]* )*(?:Getty|Images|Shutterstock|Alamy|Collection|WireImage|FilmMagic|Corbis)\b")
_SENTENCE_OPENING = re.compile(r"(?:^|[.!?:\n])[\s“‘\"'(]*$")
# Newspapers and magazines: a published piece, not a programme or network.
_PUBLICATION = re.compile(
    r"\b(?:Magazine|Times|Post|Journal|Weekly|Daily|Gazette|Herald|Tribune|Reporter|Observer|Guardian|Telegraph|"
    r"Enquirer|Chronicle|Examiner|Mirror|Mail)\b|^(?:Rolling Stone|Variety|Vogue|Vanity Fair|Billboard|Esquire|GQ|Elle|"
    r"Cosmopolitan|Glamour|Newsweek|Page Six|OK!|Life & Style|In Touch|InStyle|Marie Claire|Harper's Bazaar)$"
)


def opens_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` is the first of its sentence (quotes and brackets aside)."""
    return bool(_SENTENCE_OPENING.search(text, max(0, start - 8), start))


def person_name(name: str, sentence_initial: bool, common: frozenset[str] = frozenset()) -> str | None:
    """``name`` as the name of someone to call: without a quoted title or an owner before it
    ("‘Dream Girl’ Jennifer Hudson" -> "Jennifer Hudson") or a sentence's first word that the article
    writes in lower case elsewhere (``common``: "Follow Mike" -> "Mike"); None for a photo
    credit ("Getty", "Stanley Bielecki Movie Collection") or a quoted title itself."""
    tokens = name.split()
    if any(token.strip(".:/") in _CREDIT_WORDS for token in tokens) or _CLOSING_QUOTE.search(tokens[-1]):
        return None
    # After a quoted title or an owner ("Univision’s Los Angeles affiliate"), the name is what follows.
    after_quote = max(
        (
            at + 1
            for at, token in enumerate(tokens[:-1])
            if _CLOSING_QUOTE.search(token) or token.endswith(("’s", "'s", "s’", "s'"))
        ),
        default=0,
    )
    tokens = tokens[after_quote:]
    tokens[0] = tokens[0].lstrip("“‘\"'")
    while (sentence_initial or after_quote) and len(tokens) > 1 and tokens[0].lower() in common | _OPENING_WORDS:
        tokens = tokens[1:]
    prose = [at for at, token in enumerate(tokens[:-1]) if token.lower() in common]
    if len(tokens) > 2 and len(prose) > 1:
        # A headline in title case ("Latinos Share Their Thoughts On Donald Trump"): the name ends it.
        tokens = tokens[prose[-1] + 1 :]
    return " ".join(tokens) or None


def _lone_word(name: str, kind: str) -> bool:
    """A single capitalised word with nothing saying what it names ("However", "Kevin", "the
    Gram"): an acronym ("BBC") or a plural group ("Swifties" aside) is named, a bare word is not."""
    return (
        " " not in name
        and kind in ("name", "group")
        and not (name.isupper() or re.search(r"[a-z][A-Z]", name))
        and not (kind == "group" and (name in _GROUP_WORDS or name.endswith("s")))
        or any(character.isdigit() for character in name)
    )


def name_kind(name: str, before: str = "", after: str = "") -> str:
    """What a capitalised name stands for, read from its words and the text around it:
    "date", "event", "group", "organisation", "place", "title", "compound" (a common word such
    as "A-list") or "name" (a person, or an outlet or programme the words do not mark)."""
    tokens = [token.removesuffix("’s").removesuffix("'s").removesuffix("s’").removesuffix("s'") for token in name.split()]
    words = set(name.replace("’s", "").replace("'s", "").split()) | set(tokens)
    if re.search(r"-[a-z]", name) or name.isupper() and len(name) <= 2:
        return "compound"
    if words & _DATE_WORDS:
        return "date"
    if words & _EVENT_WORDS:
        return "event"
    if _TITLE_BEFORE.search(before) or before.endswith(("“", "‘", '"')) or after.startswith((", Esq", " Esq")):
        return "title"
    if name.removeprefix("The ") in _PLACES or words & _PLACE_WORDS or tokens[-1] in _PLACE_ENDINGS:
        return "place"
    if words & _GROUP_WORDS or _DEMONYMS.search(tokens[-1]):
        return "group"
    if NON_PERSON.search(name):
        return "organisation"
    if (
        _THE_BEFORE.search(before)
        or name.startswith("The ")
        and name.endswith("s")
        or (len(tokens) == 1 and name.endswith("s") and not name.endswith("ss"))
    ):
        return "group"
    return "name"


def is_person(name: str, sentence: str) -> bool:
    """Whether ``name`` reads as a person where the sentence names it (its first mention)."""
    at = sentence.find(name)
    before = sentence[max(0, at - 40) : at] if at >= 0 else ""
    after = sentence[at + len(name) : at + len(name) + 8] if at >= 0 else ""
    return name_kind(name, before, after) == "name"


def claim_kind(sentence: str) -> str | None:
    """What kind of event the sentence reports, for where to check it: a death, a broadcast or
    interview, a viral metric, a social post, a release; None for anything else."""
    return next((kind for kind, pattern in _KINDS if pattern.search(sentence)), None)


_SPEECH = "(?:" + "|".join(sorted(SPEECH_VERBS, key=len, reverse=True)) + ")"
_AFTER_NAME = re.compile(r"(?:[’']s)?\s+(?:\w+ly\s+|also\s+|then\s+|later\s+|once\s+)?" + _SPEECH + r"\b")
_BEFORE_NAME = re.compile(r"\b" + _SPEECH + r",?\s+$")


def _speaker(sentence: str, people: list[str]) -> str | None:
    """The person the sentence says spoke or posted: a name right before or after a speech verb."""
    for person in people:
        start = sentence.find(person)
        while start >= 0:
            end = start + len(person)
            if _AFTER_NAME.match(sentence, end) or _BEFORE_NAME.search(sentence, max(0, start - 40), start):
                return person
            start = sentence.find(person, end)
    return None


def _outlet(sentence: str) -> str | None:
    """The programme or outlet the sentence says it went out on ("on Good Morning America")."""
    for match in _SHOW.finditer(sentence):
        show = match.group("show").strip()
        show = show.removesuffix("’s").removesuffix("'s")
        if _PLATFORM.fullmatch(show.split()[0]) or show in _NOT_NAMES:
            continue
        before = sentence[max(0, match.start() - 40) : match.start("show")]
        kind = name_kind(show, before)
        if kind not in ("date", "place", "compound") or kind == "place" and " " in show and show not in _PLACES:
            return show
    return None


def cited_source(sentence: str) -> str | None:
    match = _SOURCE.search(sentence)
    return match.group("source").strip() if match else None


def _named(sentence: str, people: frozenset[str], common: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """The first programme, organisation, event or work the sentence names that is none of
    its people, with its kind ("The Return" whole); dates, places, photo credits, common words
    and lone words that may be anyone's first name are passed over."""
    for match in _NAMED.finditer(sentence):
        name = match.group().removesuffix("’s").removesuffix("'s").rstrip(".'’")
        if name.split()[0] in _NOT_NAMES and name.split()[0] not in ("The", "A", "An"):
            name = name.partition(" ")[2]
        if name and name.split()[0] not in ("The", "A", "An") and name_kind(name) not in ("date", "event"):
            name = person_name(name, opens_sentence(sentence, match.start()), common) or ""
        if not name or name in _NOT_NAMES or any(part in people for part in name.split()):
            continue
        if CREDIT_BEFORE.search(sentence, max(0, match.start() - 24), match.start()) or CREDIT_AFTER.match(sentence, match.end()):
            continue
        kind = name_kind(name, sentence[max(0, match.start() - 40) : match.start()], sentence[match.end() : match.end() + 8])
        if (
            kind == "title"
            or kind not in ("date", "place", "compound")
            and not _common_plural(name)
            and not _lone_word(name, kind)
        ):
            return name, kind
    return None


def _common_plural(name: str) -> bool:
    """A lone plural ("Fans", "Swifties") or a people ("African Americans"): a crowd, with no press office to call."""
    return (
        name in _COMMON_PLURALS
        or bool(_DEMONYMS.search(name))
        or " " not in name
        and name.endswith("s")
        and not name.endswith("ss")
        and not NON_PERSON.search(name)
    )


def _the(name: str) -> str:
    return "the " + name.removeprefix("The ")


def _as_written(name: str, kind: str) -> str:
    """A group's name with its article ("the Rolling Stones"), any other as it is."""
    return _the(name) if kind == "group" and (name.startswith("The ") or name.split()[-1].endswith("s")) else name


def _of_publication(name: str) -> str:
    return f"the piece as {_the(name) if name.startswith('The ') else name} published it (its archive or editors)"


def _publication(sentence: str) -> str | None:
    """The newspaper or magazine the sentence names ("an interview with Rolling Stone")."""
    names = (match.group().rstrip(".'’") for match in _NAMED.finditer(sentence))
    return next((name for name in names if _PUBLICATION.search(name)), None)


def _of_named(name: str, kind: str) -> str:
    if _PUBLICATION.search(name):
        return _of_publication(name)
    if kind == "event":
        return f"the organisers of {_the(name) if ' ' in name else name} (its official site or press office)"
    if kind == "title":
        return f"the studio, label or publisher of {name} (its official release or press office)"
    if kind in ("group", "organisation"):
        return f"the official site or press office of {_as_written(name, kind)}"
    return f"the official channel, press office or archive of {name}"


def check_with(sentence: str, people: list[str], dead: frozenset[str], common: frozenset[str] = frozenset()) -> str:
    """The primary source that would confirm the sentence's claim, from its roles; ``people``
    are the people it mentions by full name (``is_person``), ``dead`` the names the article's
    death register holds, ``common`` the words the article writes in lower case."""

    def is_dead(person: str) -> bool:
        return person in dead or person.split()[-1] in dead

    living = [person for person in people if not is_dead(person)]
    departed = [person for person in people if is_dead(person)]
    speaker = _speaker(sentence, living)
    actor = speaker or (living[0] if living else None)
    kinds = {kind for kind, pattern in _KINDS if kind != "social" and pattern.search(sentence)}
    if _SOCIAL_POST.search(sentence):
        kinds.add("social")
    platform = _PLATFORM.search(sentence) if kinds & {"viral", "social"} else None
    named_parts = frozenset(part for person in (*people, *dead) if " " in person for part in person.split())
    if "death" in kinds and people and _HEARSAY.search(sentence):
        return f"{people[0]}'s representatives, or the first outlet to report it"
    if "death" in kinds and departed and not (actor and kinds & {"release", "social", "broadcast"}):
        return f"an obituary, or a statement from the family or agent of {departed[0]}"
    if "broadcast" in kinds:
        outlet = _outlet(sentence)
        if outlet and not _PUBLICATION.search(outlet):
            return f"the archive or press office of {outlet}"
        publication = outlet or _publication(sentence)
        if publication:
            return _of_publication(publication)
        if actor:
            return f"the programme's or network's archive, or {actor}'s representatives"
        named = _named(sentence, named_parts, common)
        if named and named[1] != "name":
            return _of_named(*named)
        return "the programme's or network's archive or press office"
    if "viral" in kinds:
        if platform:
            return f"the public counters on the {platform.group()} post itself"
        return "the post itself, on the platform named (its public view and share counts)"
    unnamed = _UNNAMED_SPEAKER.search(sentence)
    if "social" in kinds and not actor and unnamed:
        return f"the outlet that published it, for the original post or the identity of the unnamed {unnamed.group('role')}"
    if "social" in kinds:
        if actor and platform:
            return f"{actor}'s verified {platform.group()} account (the post itself)"
        if actor:
            return f"{actor}'s own social media accounts (the post itself)"
        if platform:
            return f"the post itself on {platform.group()}, and the account that made it"
        return "the post itself, on the platform where it is said to appear"
    if "release" in kinds:
        if actor:
            return f"the official channels of {actor} (verified account, label, studio or press release)"
        named = _named(sentence, named_parts, common)
        if named and named[1] in ("name", "group"):
            return f"the official channels of {_as_written(*named)} (verified account, label, studio or press release)"
        if named:
            return _of_named(*named)
        return (
            "the official announcement itself, from whoever is said to have made it (organisers, label, studio or press office)"
        )
    cited = cited_source(sentence)
    if cited and not _ANONYMOUS.search(cited):
        return f"{cited}, the source the article cites, in its original"
    if cited:
        return "the outlet that published it, for who its unnamed sources are and what they showed"
    if STATISTIC.search(sentence):
        return "the official statistics or record the figure comes from"
    if unnamed:
        return f"the outlet that published it, for the original post or the identity of the unnamed {unnamed.group('role')}"
    media = _MEDIA.search(sentence)
    if actor and media:
        return f"{actor}'s representatives, or the studio or account that first posted the {media.group()}"
    if actor:
        return f"{actor}'s representatives, or the first outlet to report it"
    if departed:
        return f"the estate, family or agent of {departed[0]}"
    holder = _HOLDER.search(sentence)
    if media and holder:
        place = re.search(r"(?:\b(?:in|at) )?(?:[Aa]n? |[Tt]he )?(?P<where>(?:[A-Z][\w.-]+ )+)" + holder.group(), sentence)
        where = place.group("where") if place else ""
        return f"the {where}{holder.group()} said to hold the {media.group()}, or the account that first posted it"
    if media:
        return f"the account or outlet that first posted the {media.group()}"
    named = _named(sentence, named_parts, common)
    if named:
        return _of_named(*named)
    return "the first outlet to report it, or a public record of the event"
