"""Word lists behind the lexicon features and the obfuscation normaliser.

The lists name *kinds* of words (profanity, insults aimed at a person, dehumanising words for
groups, mocking-nickname adjectives); the model learns how much each kind weighs from labelled
data, so a list entry never flags a comment by itself. The lists also let the normaliser resolve
masked or spaced-out spellings (``b*llsh!t``, ``i d i o t``) to the word they hide.

Why lexicon features at all (issue 4): public toxicity labels mostly mark profanity, while the
site policy also holds profanity-free insults of other commenters, mocking nicknames and contempt
for whole groups. A few hundred hand-written policy examples cannot teach thousands of insult
words one by one; a feature that fires on the whole *kind* generalises from them.
"""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


# Slang insults the public data hardly has ("numpty" is in none of its rows, "schmuck" in ten),
# which only a listing can teach: they count as the kinds below (``INSULT``, ``PROFANE_INSULTS``)
# with the weight the model learned for those. Slang that is also an innocent word ("muppet",
# "plank", "wally", "clot", "dipstick", "pleb", "putz") is left out, and exact forms are used where
# a stem would catch another word ("dork", not "Dorking"; "prat", not "prattle").
# They are not offered to the mask resolver (``RESOLVABLE``): short ones would make masked
# profanity ambiguous ("d**k" is "dick" or "dork", "h**s" "hoes" or "hags").
SLANG_INSULTS: frozenset[str] = words(
    """
    numpty numpties pillock* plonker* dingus* wazzock* dunderhead* lamebrain* birdbrain*
    chucklehead* fathead fatheads peabrain* dimbulb* thicko* thickie* dullard* gormless
    mouthbreather* twerp* ninny ninnies schmuck* eejit* drongo* bampot* lummox* galoot* prat
    prats dork dorks ratbag* toerag* guttersnipe* scrote scrotes harridan* hag hags reprobate*
    layabout* freeloader* sponger* scrounger* sleazeball* sleazebag* dirtbag* chav chavs
    """
)
SLANG_PROFANE_INSULTS: frozenset[str] = words(
    "knobhead* knobend* bellend* tosspot* gobshite* dickweed*"
)

# Profanity, in three kinds. The ``profanity`` feature counts all three; training tells them
# apart (``severity.py``): swearing that names nobody is a milder offence than a profane word for a
# person or a slur.
#
# Swearing: exclamations and intensifiers ("this is bullshit", "what the fuck").
SWEARING: frozenset[str] = words(
    """
    fuck* fck fcking fuk fuking fukin fuq shit* shite bullshit* horseshit batshit apeshit
    chickenshit ass asses arse badass* cock cocks crap crappy piss pissed goddamn* damn damned
    bollocks effing stfu gtfo wtf
    """
)
# Profane words for a person ("you asshole", "that bastard"): an insult, however they are used.
PROFANE_INSULTS: frozenset[str] = (
    words(
        """
    fucker fuckers fuckface* fuckhead* fucktard* fuckwit* motherfuck* mofo mf dipshit* shitface*
    bullshitter* asswipe* arsewipe* bitch* biatch
    cunt* asshole* arsehole* jackass* dumbass* smartass* asshat* dick dicks dickhead* dickwad*
    cocksucker* pussy pussies whore* slut* bastard* twat* wanker* tosser* prick* douche*
    douchebag* turd* scumbag* shitbag* shithead* hoe hoes thot skank* pos sob
    """
    )
    | SLANG_PROFANE_INSULTS
)
# Slurs for a group of people.
SLURS: frozenset[str] = words(
    """
    nigga* nigger* niggaz fag fags faggot* dyke* tranny retard retards retarded spic spics kike*
    chink* wetback* gook* raghead* towelhead*
    """
)
PROFANITY: frozenset[str] = SWEARING | PROFANE_INSULTS | SLURS

# Words for a person that insult them without swearing: the "you're a moron" kind. Adjectives
# as often said of a plan as of a person ("foolish", "useless", "pathetic") are left out: a
# strong opinion about a policy is not an insult (issue 4); the n-grams still learn them.
INSULT: frozenset[str] = (
    words(
        """
    idiot* idiotic moron* moronic stupid* dumb dumber dumbest dummy dummies imbecile* cretin*
    fool fools loser* clown* troll trolls trolling dimwit* halfwit* nitwit* dunce* buffoon*
    simpleton* numbskull* numbnut* bonehead* knucklehead* blockhead* meathead* airhead*
    pinhead* dopey twit twits nincompoop* ignoramus* ignorant lowlife* scum scummy degenerate*
    deplorable* coward* liar* hypocrite* brainless clueless witless spineless gutless
    delusional deranged unhinged lunatic* nutjob* nutcase* nutter* crackpot* wacko* whacko*
    weirdo* creep creeps pervert* pedo* pedophile* sheep sheeple snowflake* libtard* trumptard*
    repugnican* rethuglican* demonrat* democrap* libturd* moonbat* wingnut* teabagger* commie*
    nazi* traitor* bigot* misogynist* incel* cuck* cuckold* jerk jerks jerkoff* loudmouth*
    blowhard* windbag* gasbag* dolt* oaf oafs boor* crybaby* brat brats bratty freak freaks
    whiner* shill* stooge* toady* lackey* bootlicker* sycophant* parasite* leech* grifter*
    crook crooks thug* hoodlum* goon* hillbilly* redneck* inbred* yokel* bumpkin* peasant*
    subhuman* fatso* lard* slob* senile demented dementia illiterate uneducated psycho psychos
    psychotic sociopath* psychopath* maniac* imbecilic loon loony looney kook* dingbat* doofus*
    goofball* bozo* chump* sucker* wimp* sissy* pansy* dweeb* scoundrel* villain* weasel* swine
    mutt* donkey* monkey* neanderthal* caveman* troglodyte*
    """
    )
    | SLANG_INSULTS
)


# Words that deny a group's humanity: "they are vermin", "those people are animals".
DEHUMANISING: frozenset[str] = words(
    """
    animal animals vermin parasite* cockroach* roach roaches rat rats rodent* maggot* lice
    louse leech* locust* pest pests infestation infest* plague* disease diseased cancer* tumor*
    tumour* filth filthy scum savage* barbarian* barbaric beast* brute* brutes subhuman*
    untermensch mongrel* swine gorilla* chimp* chimps baboon* pig pigs dog dogs ape apes
    monkey* baboon* primate* trash garbage rubbish degenerate* inferior inbred* mongoloid*
    vermins sewage waste cattle livestock herd horde* hordes invader* invasion germ germs virus
    bacteria termite* worm worms snake snakes
    """
)

# Calls for harm, exclusion or erasure, usually aimed at a group.
VIOLENCE: frozenset[str] = words(
    """
    exterminate* extermination eradicate* eradication wipe wiped annihilate* gas gassed gassing
    hang hanged hanging lynch* shoot shot execute* executed deport* expel* kill killed kill
    killing murder* slaughter* genocide purge* cleanse cleansing burn burned beat beaten
    """
)

# Words that address the reader or another commenter.
SECOND_PERSON: frozenset[str] = words(
    "you your youre yours yourself yourselves ya yall u ur urself thou thee"
)

# Openers that aim a judgement at whoever holds a view: "only an idiot would believe this".
GENERIC_TARGET: frozenset[str] = words(
    "only anyone anybody whoever everyone everybody those these people folks"
)

# Pronouns and determiners that stand for a group ("they are", "those people").
GROUP_WORDS: frozenset[str] = words(
    """
    they them theyre those these people folks all immigrants migrants refugees foreigners
    muslims muslim jews jewish christians catholics hindus sikhs atheists arabs africans asians
    mexicans chinese russians americans canadians europeans indians pakistanis somalis syrians
    iranians israelis palestinians ukrainians poles germans french british brits english irish
    scots italians greeks turks japanese koreans filipinos latinos hispanics blacks whites gays
    lesbians trans women men liberals conservatives democrats republicans leftists rightwingers
    progressives socialists communists libertarians boomers millennials illegals aliens natives
    tribes indigenous aboriginals gypsies roma travellers protesters voters supporters
    """
)

# Adjectives that make a politician's name into a mocking nickname ("Crooked Hillary").
NICKNAME_ADJECTIVES: frozenset[str] = words(
    """
    crooked sleepy lyin lying dementia creepy crazy little dopey sloppy shifty cryin crying
    lowenergy lowiq phony corrupt senile tricky slimy sneaky dumb pocahontas cheeto orange
    tangerine comrade chairman mini meatball moscow beijing traitor commie psycho mad
    """
)

# Well-known politicians' names, so "sleepy joe" is a nickname even in lowercase text.
POLITICIAN_NAMES: frozenset[str] = words(
    """
    joe biden hillary clinton bill donald trump barack obama bernie sanders nancy pelosi ted
    cruz mitch mcconnell kamala harris marco rubio mitt romney jeb bush george dubya adam
    schiff chuck schumer elizabeth warren aoc justin trudeau boris johnson theresa keir starmer
    rishi sunak jeremy corbyn nigel farage emmanuel macron angela merkel vladimir putin xi kim
    gavin newsom ron desantis liz cheney mike pence rand paul lindsey graham jim jordan
    marjorie greene gretchen whitmer andrew cuomo pete buttigieg hunter jill melania ivanka
    kevin mccarthy
    """
)

# Name-mangling insults and suffixes that turn a name or group into a slur.
NICKNAME_WORDS: frozenset[str] = words(
    """
    drumpf trumpanzee trumpster* trumpkin* trumptard* obummer obozo obongo killary hitlery
    hilliary shillary bidet dementiajoe sleepyjoe crookedhillary demonrat*
    repugnican* rethuglican* libtard* conservatard* retardican* democrap* dumbocrat* dumbocrats
    libturd*
    """
)
INSULT_SUFFIXES: tuple[str, ...] = ("tard", "tards", "turd", "turds", "bag", "bags", "wad")

# Leetspeak and symbol stand-ins for letters, applied inside words only.
LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "i", "+": "t", "€": "e", "£": "l",
}  # fmt: skip

# Characters that hide a letter without saying which ("f*ck", "sh#t").
MASKS = frozenset("*#%_")


def _split(words: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    exact = frozenset(w for w in words if not w.endswith("*"))
    stems = tuple(sorted(w[:-1] for w in words if w.endswith("*")))
    return exact, stems


class WordList:
    """A set of words plus stems, matched against normalised tokens."""

    __slots__ = ("exact", "stems")

    def __init__(self, words: frozenset[str]) -> None:
        self.exact, self.stems = _split(words)

    def __contains__(self, token: object) -> bool:
        if not isinstance(token, str):
            return False
        return token in self.exact or (len(token) > 2 and token.startswith(self.stems))

    def words(self) -> frozenset[str]:
        """Every exact word and stem, for resolving masked spellings."""
        return self.exact | frozenset(self.stems)


PROFANE = WordList(PROFANITY)
SWEAR_WORDS = WordList(SWEARING)
PROFANE_PERSON_WORDS = WordList(PROFANE_INSULTS | SLURS)
INSULTING = WordList(INSULT)
DEHUMANISE = WordList(DEHUMANISING)
VIOLENT = WordList(VIOLENCE)
NICKNAMES = WordList(NICKNAME_WORDS)

# Every word the normaliser may resolve an obfuscated spelling to (not the slang: see above).
_SLANG = WordList(SLANG_INSULTS | SLANG_PROFANE_INSULTS).words()
RESOLVABLE: frozenset[str] = frozenset(
    w
    for w in PROFANE.words() | INSULTING.words() | DEHUMANISE.words()
    if len(w) >= 3 and w not in {"pos", "sob", "mf", "ass"} and w not in _SLANG
) | frozenset({"ass", "arse", "fuck", "fucking", "fucker", "shit", "bullshit", "bitch"})


def is_abusive_word(token: str) -> bool:
    """True if the token is on one of the abusive lists (for the normaliser's choices)."""
    return token in PROFANE or token in INSULTING or token in DEHUMANISE
