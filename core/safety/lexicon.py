"""Word classes the crisis classifier reads besides the words themselves, and negation scope.

The hashed word and character n-grams (features.py) only know the words the training rows
used: "cord" or "quarry" mean nothing to them unless a row said so. A linear
head generalises further when words of one kind share a feature: every means of harm of a
kind ("rope", "cord", "belt", "noose"), every farewell act ("goodbye", "will", "letters"),
every time of a plan ("tonight", "saturday", "payday"). So each word also emits its class
("k:ligature"), neighbouring words emit their class bigram ("kb:time farewell") and the
classes present in one sentence emit their pairs ("kp:drug+time"): a statement built of
kinds seen in training (a means + a time) scores like them even in words never seen.

Words within three words after a negation ("never", "not", "don't") carry a negated mark
instead ("n:hurt", "kn:harm"), the usual scope trick of sentiment models, so "I've never
hurt anyone" does not read like "I've hurt someone". Hand-written because it is a list of
words: no library ships a crisis lexicon, and WordNet-style synonyms would pull in a
corpus download for fewer, noisier classes.
"""

from __future__ import annotations

# class -> words (normalised: lower case, contractions folded as in features.words)
_CLASSES: dict[str, tuple[str, ...]] = {
    "death": ("die", "dying", "dead", "death", "died", "unalive", "unaliving", "suicide", "suicidal", "kms",
              "kys", "grave", "coffin", "afterlife", "heaven", "corpse", "deceased", "lifeless", "sucide",
              "suicde", "suicidal", "perish", "deathbed", "overdose", "od", "oded"),
    "exist": ("alive", "exist", "existing", "existence", "living", "born", "being", "here", "around",
              "breathing", "life", "lives"),
    "gone": ("gone", "disappear", "disappeared", "vanish", "vanished", "erase", "erased", "nothing",
             "nobody", "nowhere", "cease", "forever", "permanently", "eternal", "eternity"),
    "end": ("end", "ending", "ended", "ends", "finish", "finished", "over", "done", "stop", "stops",
            "stopped", "quit", "checkout", "out", "off", "through", "last", "final", "finally", "enough"),
    "sleep": ("sleep", "asleep", "wake", "waking", "woke", "awake", "rest", "eyes", "peace", "peaceful",
              "quiet", "dark", "darkness", "sleeping"),
    "drug": ("pills", "pill", "tablets", "tablet", "meds", "medication", "medicine", "paracetamol",
             "painkillers", "insulin", "sertraline", "antidepressants", "dose", "doses", "lethal", "overdose",
             "prescription", "codeine", "tramadol", "opioids", "heroin", "vodka", "bleach", "poison",
             "stash", "stockpile", "stockpiled", "stockpiling", "packets", "packet", "bottle", "blister",
             "zopiclone", "diazepam", "xanax", "benzos", "fentanyl", "charcoal", "exhaust", "fumes", "gas"),
    "ligature": ("rope", "cord", "belt", "noose", "ligature", "cable", "hang", "hanging", "hanged", "tie",
                 "scarf", "hook", "beam", "rafter", "banister", "knot", "hose", "tape"),
    "height": ("bridge", "cliff", "cliffs", "roof", "rooftop", "ledge", "balcony", "platform", "tracks",
               "train", "trains", "railway", "multistorey", "quarry", "edge", "jump", "jumping",
               "fall", "falling", "high", "tall", "storey", "floor", "river", "sea", "lake", "motorway",
               "traffic", "lorry", "water", "drown", "drowning", "walk"),
    "weapon": ("gun", "guns", "shotgun", "rifle", "pistol", "knife", "knives", "blade", "blades", "razor",
               "razors", "bullet", "bullets", "hammer", "machete", "sharpener", "scissors", "shard",
               "glass", "needle", "lighter", "ammo"),
    "injury": ("cut", "cutting", "cuts", "burn", "burning", "burns", "burnt", "bleed", "bleeding", "blood",
               "bled", "scars", "scar", "scratch", "scratching", "slit", "wrist", "wrists", "thigh", "thighs",
               "arms", "arm", "skin", "bruise", "bruises", "wounds", "wound", "sh", "shd", "stitches",
               "marks", "sleeves", "carve", "carved", "bite", "punch", "punching", "hit", "hitting", "harm",
               "harming", "hurt", "hurting", "pain", "sting", "legs", "knuckles"),
    "time": ("tonight", "tomorrow", "tmrw", "weekend", "monday", "wednesday", "thursday",
             "friday", "saturday", "sunday", "date", "midnight", "week", "days", "day", "payday",
             "birthday", "christmas", "year", "morning", "night", "when", "after", "once", "soon",              "am", "pm", "o'clock", "clock", "minutes", "anniversary", "today"),
    "decide": ("decided", "plan", "planned", "planning", "plans", "ready", "sure", "picked",
               "chosen", "chose", "mind", "worked", "prepared", "preparing", "set", "going",
               "gonna", "will", "ill", "tested", "checked", "googling", "googled", "researched", "looked",
               "measured", "counted", "counting", "figured", "know", "exactly"),
    "farewell": ("goodbye", "goodbyes", "bye", "farewell", "letter", "letters", "note", "notes", "will",
                 "insurance", "funeral", "sorry", "forgive", "thanks", "thank", "loose", "ends", "sealed",
                 "envelope", "passwords", "instructions", "debts", "hugged", "last", "video",
                 "message", "find", "finds", "found", "after"),
    "give": ("gave", "give", "giving", "given", "away", "rehome", "rehomed", "sorted", "cancelled",
             "deleted", "returned", "paid", "tidying", "tidied", "cleared", "sold", "keep", "take", "over",
             "gets", "need", "needing"),
    "burden": ("burden", "waste", "drain", "weight", "problem", "useless", "worthless", "failure",
               "pointless", "hopeless", "point", "better", "without", "miss", "happier", "ruin",
               "ruined", "mess", "disappointment", "nothing", "deserve", "oxygen", "space", "trouble",
               "dragging", "load", "nuisance", "mistake"),
    "hopeless": ("never", "ever", "nothing", "hopeless", "pointless", "trapped", "stuck", "tired", "exhausted",
                 "numb", "empty", "done", "give", "giving", "future", "tunnel", "better", "worse", "anymore",
                 "carry", "carrying", "on", "why", "bother"),
    "harm": ("hurt", "kill", "killing", "stab", "stabbing", "shoot", "shooting", "strangle", "strangling",
             "smother", "smothering", "poison", "poisoning", "beat", "beating", "choke", "choking",
             "murder", "end", "finish", "destroy", "attack", "suffer", "survive", "pay", "lesson",
             "torch", "burn"),
    "other": ("him", "her", "them", "boss", "ex", "flatmate", "roommate", "neighbour", "neighbor", "baby",
              "kids", "children", "son", "daughter", "wife", "husband", "partner", "mum", "mom", "mother",
              "dad", "father", "stepdad", "brother", "sister", "teacher", "coworker", "coworkers", "school",
              "class", "everyone", "someone", "somebody", "anyone", "people", "names", "list", "bloke",
              "guy", "lot"),
    "self": ("myself", "myslef", "me", "my", "i", "im", "ive", "id", "mine", "self"),
    "media": ("film", "movie", "show", "podcast", "documentary", "game", "novel", "book", "song", "lyrics",
              "article", "episode", "series", "drama", "character", "villain", "scene", "dissertation",
              "essay", "course", "training", "lecture", "news", "story", "poem", "play",
              "level", "comedian", "meme", "tiktok", "video"),
    "report": ("said", "says", "told", "tells", "asked", "asks", "reckons", "thinks", "texted", "wrote",
               "shouted", "yelled", "joked", "keeps", "saying", "mentioned"),
    "joke": ("lol", "lmao", "haha", "hahaha", "joke", "joking", "jk", "kidding", "lmfao", "rofl",
             "emojis", "funny", "laughing", "laughed", "laugh"),
    "everyday": ("holiday", "flight", "party", "wedding", "festival", "trip",                  "gym", "work", "exam", "exams", "shift", "match", "quiz", "coffee", "pizza", "dinner",
                 "lunch", "shopping", "charity", "project", "concert", "moving", "move", "vet", "pharmacy",
                 "dentist", "doctor", "hair", "nails", "garden"),
}
WORD_CLASSES: dict[str, tuple[str, ...]] = {}
for _name, _words in _CLASSES.items():
    for _w in _words:
        WORD_CLASSES[_w] = WORD_CLASSES.get(_w, ()) + (_name,)

NEGATORS = frozenset({"not", "never", "no", "dont", "didnt", "wont", "wouldnt", "cant", "isnt", "arent",
                      "havent", "hasnt", "hadnt", "doesnt", "nobody", "without", "zero", "nor", "neither"})
NEGATION_SCOPE = 3  # words after a negator that it governs ("never once thought about hurting")
_SCOPE_BREAK = frozenset({"but", "and", "just", "so", "because", "cos", "though", "although", "yet"})


def negated(words: list[str]) -> list[bool]:
    """Per word: whether a negator within the last NEGATION_SCOPE words governs it."""
    out, left = [], 0
    for w in words:
        if w in _SCOPE_BREAK:
            left = 0
            out.append(False)
        elif w in NEGATORS:
            left = NEGATION_SCOPE
            out.append(False)
        else:
            out.append(left > 0)
            left = max(0, left - 1)
    return out


def class_grams(words: list[str]) -> list[str]:
    """The class features of one sentence's words: classes, class bigrams, class pairs in the sentence."""
    neg = negated(words)
    grams: list[str] = []
    seen: set[str] = set()
    prev: tuple[str, ...] = ()
    for w, n in zip(words, neg, strict=True):
        classes = WORD_CLASSES.get(w, ())
        if n:
            grams.append("n:" + w)
        for c in classes:
            grams.append(("kn:" if n else "k:") + c)
            if not n:
                seen.add(c)
        for p in prev:
            for c in classes:
                grams.append(f"kb:{p} {c}")
        prev = classes if not n else ()
    ordered = sorted(seen)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            grams.append(f"kp:{a}+{b}")
    return grams
