"""The explicit layer of the crisis check: phrases per category, and the contexts that cancel them.

Categories follow the Columbia suicide severity scale (passive and active ideation, method or
means, plan or timing, preparatory acts, self-injury), plus hopelessness/burden and danger to
others. A pattern fires only when its clause is not:
- negated ("I'm not going to kill myself", "I would never hurt myself"),
- past and over ("I used to cut", "I stopped cutting"),
- quoted or reported ("the character says he wants to die", "she texted 'I'm dead'"),
- talk about a topic or a medium ("a podcast on self-harm awareness", "suicide prevention"),
- an idiom ("killing myself laughing", "I nearly killed myself tripping over the cat").
Whatever these rules let through, or miss, the learned classifier (classifier.py) also reads.
A false alarm costs one gentle message and a miss is worse, so when in doubt a pattern fires.
Texts are matched after `normalise()` (lower case, straight apostrophes, single spaces), so
ASR output without punctuation or capitals matches the same way as typed text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CATEGORIES = ("passive_ideation", "active_ideation", "method_means", "plan_timing", "preparatory",
              "self_injury", "hopelessness_burden", "harm_others")

_SELF = r"my\s?s(?:elf|lef|elves)"  # "myself", "my self", the common "myslef" typo
_I = r"(?:i|i'?m|im|i'?ve|ive|i'?ll|ill|i'?d|id)"
_WILL = r"(?:i'?m\s+going\s+to|i'?m\s+gonna|im\s+gonna|gonna|going\s+to|i\s+will|i'?ll|ill|want\s+to|wanna|plan(?:ning)?\s+to|about\s+to)"
_ADV = r"(?:(?:really|just|even|honestly|actually|kinda|kind\s+of|sort\s+of|truly|so|seriously)\s+)?"
_TIME = (r"(?:tonight|tomorrow|tmrw|today|this\s+(?:weekend|week|evening|afternoon)|next\s+week|at\s+midnight|"
         r"on\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day|on\s+my\s+birthday|after\s+(?:work|school|the\s+funeral|this))")

# (category, pattern); within a category the order does not matter. Severity order of the
# categories decides which one a text gets when several fire (see SEVERITY).
_PATTERNS: list[tuple[str, str]] = [
    # plan or timing: a when, a decision, a last night
    ("plan_timing", rf"\b(?:kill(?:ing)?\s+{_SELF}|end(?:ing)?\s+(?:my\s+(?:own\s+)?life|it\s+all|it|things)|do(?:ing)?\s+it|take\s+(?:them|the\s+pills))\s+{_TIME}"),
    ("plan_timing", rf"\b{_TIME}(?:'?s|\s+is)?\s+(?:the\s+night\s+)?(?:i'?m|im|i\s+am)\s+(?:doing\s+it|ending\s+(?:it|things|my\s+life))"),
    ("plan_timing", r"\b(?:this\s+is|it'?s|its)\s+my\s+last\s+(?:(?:night|day)\s+(?:alive|on\s+earth)|night\b(?!\s+(?:in|at|of|here|with|before|off|out)\b))"),
    ("plan_timing", r"\b(?:won'?t|wont|will\s+not)\s+be\s+alive\b|\bby\s+(?:this\s+time\s+)?tomorrow\s+i\s+(?:won'?t|wont|will\s+not)\s+be\s+(?:here|around|alive)\b"),
    ("plan_timing", r"\b(?:bridge|cliffs?|roof|building|balcony|tracks|ledge)\b.{0,40}\bjump(?:ing)?\b(?!\s+(?:in|into)\b)"),
    ("plan_timing", r"\b(?:take|taking|swallow\w*)\s+(?:the\s+whole\s+(?:bottle|packet|box)|all\s+(?:of\s+)?(?:my|the|these|them|those)\s+(?:pills|tablets|meds)\s+(?:at\s+once|tonight|when|and\s+(?:die|end|sleep)))|\bswallow\w*\s+all\s+(?:of\s+)?(?:these|them|those|my|the)\b"),
    ("plan_timing", r"\b(?:won'?t|wont|will\s+not)\s+be\s+(?:alive|here|around)\s+(?:by\s+)?(?:tomorrow|next\s+week|much\s+longer|for\s+much\s+longer|this\s+time\s+tomorrow|any\s?more)\b(?!.{0,40}\b(?:holiday|vacation|trip|away\s+(?:for|on|with)|conference|travel\w*|visiting|festival|camping))|\bbe\s+around\s+(?:for\s+)?much\s+longer\b"),
    ("plan_timing", r"\b(?:i'?ll|ill|i\s+will)\s+be\s+(?:dead|gone\s+for\s+good)\s+(?:by|before)\b|\b(?:i'?ll|ill|i\s+will)\s+be\s+gone\b.{0,30}\bfor\s+good\b"),
    ("plan_timing", r"\b(?:a|my)\s+plan\s+and\s+(?:a|the)\s+(?:time|date|day)\b"),
    ("plan_timing", r"\b(?:after|once|when|tonight|tomorrow)\b.{0,40}\bgoing\s+through\s+with\s+it\b|\bnobody\s+will\s+find\s+me\s+alive\b|\bby\s+(?:the\s+)?(?:morning|tomorrow|tonight)\s+i'?ll\s+be\s+gone\b"),
    ("plan_timing", r"\btake\s+every\s+(?:pill|tablet)\b"),
    ("plan_timing", r"\blast\s+time\s+(?:\w+\s+)?\w+(?:'ll|\s+will|\s+(?:is|are)\s+going\s+to|\s+gets?\s+to)\s+(?:ever\s+)?see\s+me\b(?!\s+(?:before|until|till|for|in|on|at|wearing|doing|with|this|next|like\s+this)\b)"),
    ("plan_timing", rf"\b(?:plan(?:ned|ning)?|have\s+a\s+plan|got\s+a\s+plan)\s+(?:to|how\s+to|on\s+how\s+to)\s+(?:kill\s+{_SELF}|end\s+my\s+life|die)\b"),
    ("plan_timing", r"\b(?:set|picked|chosen|chose)\s+(?:a|the)\s+date\s+(?:to|when|for\s+when)\s+(?:i\s+)?(?:die|kill|end)"),
    ("plan_timing", r"\bworked\s+out\s+(?:when\s+and\s+how|how\s+and\s+when)\s+i'?m\s+(?:going\s+to|gonna)\s+die\b"),
    ("plan_timing", r"\b(?:nobody|no\s+one|no-one)\s+(?:will|is\s+going\s+to|would)\s+(?:ever\s+)?find\s+me\b(?!\s+(?:here|in\s+time\s+for))"),
    ("plan_timing", r"\b(?:this|that)\s+(?:is|will\s+be)\s+the\s+last\s+time\s+(?:anyone|anybody|you|they|you'?ll|you\s+all)\b.{0,20}\b(?:hear|see)\s+(?:from\s+)?me\b"),
    # preparatory acts: goodbyes, giving things away, notes, acquiring means
    ("preparatory", r"\bsuicide\s+(?:note|letter)s?\b"),
    ("preparatory", r"\bgoodbye\s+(?:letters?|notes?|videos?|messages?)\b"),
    ("preparatory", r"\b(?:when|after|once)\s+i'?m\s+(?:gone|dead)\b(?!\s+(?:on|for\s+the)\s+(?:holiday|weekend|trip|vacation))"),
    ("preparatory", r"\b(?:after|when|once)\s+i\s+die\b"),
    ("preparatory", r"\b(?:bye|goodbye|goodbyes)\b.{0,50}\b(?:last\s+time|for\s+the\s+last\s+time|never\s+see\s+(?:me|them|you)\s+again)\b"),
    ("preparatory", r"\bnothing\s+left\s+of\s+me\b"),
    ("preparatory", r"\b(?:returned|gave\s+back)\s+everything\s+i\s+borrowed\b|\bsaid\s+sorry\s+to\s+everyone\b"),
    ("preparatory", r"\bremember\s+me\s+by\b|\bgoodbye\s+forever\b|\bmy\s+(?:own\s+)?funeral\b"),
    ("preparatory", r"\b(?:giving|gave|give|given|giving)\s+(?:away\s+)?(?:all\s+)?(?:of\s+)?my\s+(?:stuff|things|belongings|possessions)\b"),
    ("preparatory", r"\b(?:gave|give|giving|given)\b.{0,40}\baway\b.{0,20}\b(?:won'?t|wont|will\s+not)\s+need\s+(?:it|them)\b|\b(?:won'?t|wont|will\s+not)\s+need\s+(?:it|them|any\s+of\s+(?:it|them)|my\s+\w+)\s+(?:anymore|any\s+more|where\s+i'?m\s+going|after\s+(?:(?:this|that|next|the)\s+\w+|tonight|tomorrow|\w+day))"),
    ("preparatory", r"\bsa(?:y|id|ying)\s+(?:my\s+)?goodbyes?\b.{0,40}\b(?:last\s+time|forever|for\s+good|last\s+one)\b"),
    ("preparatory", r"\b(?:bought|got|buying|getting)\s+a\s+(?:rope|gun)\b.{0,45}\b(?:for\s+me|myself|to\s+(?:hang|use\s+on|shoot)\s+" + _SELF + ")"),
    ("preparatory", r"\b(?:collect|collecting|saving|saved|hoard|hoarding|stockpil\w*)\s+(?:up\s+)?(?:my\s+)?(?:sleeping\s+)?(?:pills|meds|tablets|medication|painkillers)\b"),
    ("preparatory", r"\b(?:note|notes|letters?)\b.{0,40}\bfor\s+(?:\w+\s+){0,3}to\s+find\b"),
    ("preparatory", r"\bwhen\s+i'?m\s+(?:not\s+(?:here|around|alive)|no\s+longer\s+(?:here|around|alive))\b|\bi\s+(?:won'?t|wont|will\s+not)\s+be\s+around\b(?!\s+(?:next|this|on|at|until|till|for\s+(?:the|a|dinner|lunch|tea)|tomorrow|today|tonight|in\s+the|over|during|later|much\s+this|when\s+you\s+(?:get|arrive)))"),
    ("preparatory", r"\b(?:won'?t|wont|will\s+not)\s+be\s+needing\s+(?:it|them|any\s+of\s+(?:it|them)|my\s+\w+)\b.{0,20}\b(?:where\s+i'?m\s+going|any\s?more|after)\b|\bwhere\s+i'?m\s+going\b.{0,20}\b(?:won'?t|wont)\s+need\b"),
    ("preparatory", r"\bwho\s+(?:should|will|gets?|is\s+to|can)\s+(?:get|have|take|keep)\s+(?:all\s+)?my\s+(?:things|stuff|belongings|possessions|savings|money)\b"),
    ("preparatory", r"\b(?:say|said|saying)\s+goodbye\b.{0,50}\b(?:didn'?t|doesn'?t|don'?t|did\s+not)\s+(?:know|realise|realize|understand)\s+(?:what|why|that)\b|\b(?:say|said|saying)\s+goodbye\s+(?:to\s+\w+(?:\s+\w+)?\s+)?without\s+(?:them|him|her|anyone|anybody)\s+knowing\b"),
    ("preparatory", r"\b(?:gave|given|giving|give|rehom\w*)\s+(?:away\s+)?my\s+(?:cat|dog|pets?|rabbit)\s+(?:away\s+)?to\s+(?:my\s+)?\w+\s+for\s+good\b"),
    # method or means
    ("method_means", rf"\b(?:hang|hanging|hanged)\s+{_SELF}\b"),
    ("method_means", r"\bslit(?:ting)?\s+my\s+(?:wrists?|throat)\b"),
    ("method_means", r"\boverdos(?:e|ing|ed)\b"),
    ("method_means", r"\b(?:jump|jumping|throw\w*\s+" + _SELF + r"|step|stepping)\s+(?:off|from|in\s+front\s+of|under|onto)\s+(?:the|a|my)\s+(?:\w+\s+)?(?:bridge|roof|building|cliffs?|balcony|train|bus|tracks|car|lorry|truck)\b"),
    ("method_means", r"\bhow\s+many\s+(?:pills|tablets|meds)\b.{0,30}\b(?:take|kill|die|lethal|enough)\b"),
    ("method_means", r"\b(?:dose|amount|how\s+many|how\s+much)\b.{0,40}\b(?:would\s+be|is)\s+(?:lethal|deadly|fatal)\b|\b(?:lethal|deadly|fatal)\s+(?:dose|amount|overdose)\b|\bwhich\s+(?:pills|painkillers|meds|tablets)\s+(?:are|would\s+be)\s+(?:lethal|deadly|fatal)\b"),
    ("method_means", r"\bhow\s+much\s+\w+\s+(?:would|will|it\s+takes\s+to)\s+kill\s+me\b"),
    ("method_means", rf"\bdrown(?:ing)?\s+{_SELF}\b|\b(?:gun|knife|blade)\s+(?:to|on|against)\s+my\s+(?:head|wrists?|throat)\b"),
    ("method_means", r"\b(?:can'?t\s+stop|keep|always)\s+thinking\s+about\s+(?:the|my)\s+(?:pills|tablets|rope|gun|blade|razor)\b"),
    ("method_means", r"\bcrash(?:ing)?\s+my\s+car\s+on\s+purpose\b|\bcar\s+exhaust\b|\b(?:drive|driving|crash|crashing|steer)\s+(?:my\s+car\s+)?(?:into|off)\s+(?:a|the)\s+(?:wall|tree|river|lorry|truck|bridge|cliff)\b|\bengine\s+running\s+in\s+the\s+(?:closed\s+)?garage\b"),
    ("method_means", r"\benough\s+(?:\w+\s+){1,2}(?:saved\s+|stored\s+|left\s+)?to\s+(?:end\s+it|end\s+my\s+life|die|kill\s+(?:me|myself)|make\s+it\s+stop\s+for\s+good)\b"),
    ("method_means", r"\b(?:got|have|bought|hid|hidden|tied|keep|kept)\s+(?:a|the)\s+(?:rope|noose)\b(?!\s+(?:swing|ladder|lights?|bridge|course|toy)\b|\s+for\s+(?:the\s+|a\s+|my\s+)?(?:washing|tent|boat|climbing|(?:\w+\s+)?swing|garden|gym|camping|hammock))|\bnoose\b"),
    ("method_means", r"\b(?:stand|standing|stood|sit|sitting|sat|lean\w*)\b.{0,30}\bedge\s+of\s+(?:the|a)\s+(?:platform|roof|cliff|bridge|building|balcony|car\s+park)\b(?!.{0,30}\b(?:view|sunset|photo|picture|enjoy\w*))"),
    ("method_means", r"\bhow\s+easy\s+it\s+would\s+be\s+to\s+(?:just\s+)?(?:walk\s+in|jump|step\s+(?:off|out|in)|let\s+go|fall|drive\s+off|swerve|end\s+(?:it|things)|not\s+(?:be|wake|exist))\b"),
    ("method_means", r"\b(?:pills|tablets|meds|medication|painkillers|paracetamol|acetaminophen|tylenol|ibuprofen|aspirin|codeine|tramadol|oxycodone|oxy|insulin|sertraline|citalopram|fluoxetine|prozac|zopiclone|diazepam|valium|xanax|sleeping\s+(?:pills|tablets)|antidepressants)\b.{0,30}\b(?:in\s+front\s+of\s+me|lined\s+up|counted\s+out|next\s+to\s+me|ready)\b"),
    ("method_means", r"\b(?:prescription|(?:pills|tablets|meds|medication|painkillers|paracetamol|acetaminophen|tylenol|ibuprofen|aspirin|codeine|tramadol|oxycodone|oxy|insulin|sertraline|citalopram|fluoxetine|prozac|zopiclone|diazepam|valium|xanax|sleeping\s+(?:pills|tablets)|antidepressants))\b.{0,40}\b(?:have|got)\s+(?:more\s+than\s+)?enough\b(?!\s+(?:for\s+the\s+(?:trip|holiday|week|month)))"),
    ("method_means", r"\buse\s+(?:it|them|that)\s+on\s+(?:me|myself|my\s?self)\b|\b(?:knife|blade|razor|gun)\s+(?:is\s+)?(?:in|right\s+here\s+in)\s+my\s+hands?\b"),
    ("method_means", r"\b(?:took|taken|swallowed|downed|necked|had)\s+(?:a\s+(?:load|lot|bunch|handful|whole\s+\w+)|half\s+a|a\s+whole|loads|all|most|the\s+rest|like\s+\d+|\d+|\w+ty)\s+(?:of\s+)?(?:my\s+|the\s+|her\s+|his\s+)?(?:\w+\s+)?(?:(?:pills|tablets|meds|medication|painkillers|paracetamol|acetaminophen|tylenol|ibuprofen|aspirin|codeine|tramadol|oxycodone|oxy|insulin|sertraline|citalopram|fluoxetine|prozac|zopiclone|diazepam|valium|xanax|sleeping\s+(?:pills|tablets)|antidepressants)|bottle|packet|box|strip)\b"),
    # self-injury
    ("self_injury", r"\bself[-\s]?(?:harm\w*|injur\w*|mutilat\w*)\b"),
    ("self_injury", r"\bsh'?(?:d|ed)\b|\b(?:relapsed|sh)\s+again\b|\bslit\s+(?:my|me)\s+(?:arms?|legs?|thighs?|skin|stomach|ankles?)\b"),
    ("self_injury", r"\b(?:need|want)\s+to\s+feel\s+pain\b|\bhurt\s+myself\s+to\s+feel\b"),
    ("self_injury", r"\bonly\s+thing\s+that\s+helps\s+is\s+(?:cutting|hurting\s+myself|burning\s+myself)\b|\b(?:cutting|hurting\s+myself)\s+is\s+the\s+only\s+thing\b"),
    ("self_injury", rf"\b(?:cut|cutting|cuts|burn|burning|burned|burnt|hurt|hurting|harm|harming|hit|hitting|punch|punching|scratch\w*|starv\w*|punish\w*)\s+{_SELF}\b"),
    ("self_injury", r"\b(?:started|start|relapsed\w*|urge\s+to|need\s+to|want\s+to|wanna)\s+(?:\w+\s+)?cut(?:ting)?\b(?!\s+(?:back|down|out|off|ties|class|corners|the|(?:my|his|her|their|your)\s+(?:hair|fringe|nails|hours|losses|spending|cake|grass|lawn|hedge|sandwich|meat|food)))"),
    ("self_injury", r"\bcuttin[g']?\s+(?:again|my\s+(?:arms?|legs?|wrists?|thighs?|skin))\b|\bcut\s+deeper\b|\b(?:cuts|scars)\s+i\s+(?:made|gave\s+myself)\b"),
    ("self_injury", r"\bburning\s+my\s+(?:arms?|skin|wrists?|legs?)\s+with\b|\b(?:till|until|til)\s+(?:it|i|they|my\s+\w+)\s+(?:bled|bleeds?|bruised?)\b"),
    ("self_injury", r"\b(?:fresh\s+)?cuts\s+on\s+my\s+(?:arms?|wrists?|legs?|thighs?)\b|\bfresh\s+cuts\b"),
    ("self_injury", r"\b(?:razor|blade)\s+on\s+my\s+(?:arm|wrist|leg|thigh|skin)s?\b|\bcarv(?:e|ed|ing)\s+(?:\w+\s+)?into\s+my\b"),
    ("self_injury", r"\b(?:hurt|burn|burned|burnt|cut|hit|slamm?ed|punched|scratch\w*|bang\w*)\b.{0,40}\bon\s+purpose\b"),
    ("self_injury", r"\b(?:burn\w*|cut|cutting|scratch\w*)\s+(?:my|me)\s+(?:arms?|wrists?|legs?|thighs?|skin|stomach|hands?|body)\s+with\s+(?:a\s+|my\s+)?(?:lighter|cigarettes?|razor|blade|knife|scissors|compass|lighter|matches|iron)\b"),
    ("self_injury", r"\brelaps\w*\b.{0,60}\b(?:blood|cuts?|cutting|bleed\w*|scars?|razor|blade)\b|\bblood\s+on\s+my\s+(?:sheets|sleeves?|bed)\b"),
    ("self_injury", r"\b(?:until|till|til)\s+(?:it|the\s+skin|my\s+skin)\s+(?:breaks|broke|bleeds|bled|tears|tore)\b|\bdig(?:s|ging)?\s+my\s+nails\s+into\b"),
    ("self_injury", r"\bhid(?:e|es|ing)?\s+(?:the|my)\s+(?:marks|scars|cuts|burns|bruises)\b|\blong\s+sleeves\b.{0,30}\b(?:marks|scars|cuts|burns)\b|\b(?:marks|scars|cuts|burns)\b.{0,30}\blong\s+sleeves\b"),
    # active ideation
    ("active_ideation", rf"\b(?:kill|killing|killin'?|killed|kil|off|offing|unalive|unaliving)\s+{_SELF}\b"),
    ("active_ideation", r"\b(?:i'?m|im|i\s+am)\s+ending\s+(?:it|things|my\s+life)\b(?!\s+with\b)"),
    ("active_ideation", r"\bkms\b|\bkys\s+my\s?self\b"),
    ("active_ideation", r"\bsuicid(?:e|al)\b"),
    ("active_ideation", r"\b(?:end|ending|endin'?|ended|take|taking|took)\s+(?:my|me)\s+(?:own\s+)?life\b"),
    ("active_ideation", r"\bend(?:ing)?\s+it\s+all\b"),
    ("active_ideation", rf"\b(?:{_WILL}|wanting\s+to)\s+(?:just\s+)?end\s+(?:it|things|everything)\b(?!\s+with\b)"),
    ("active_ideation", r"\b(?:thinking\s+(?:about|of)|thoughts\s+(?:about|of))\s+ending\s+(?:it|things|everything)\b(?!\s+with\b)"),
    ("active_ideation", r"\bdie\s+by\s+(?:my\s+own\s+hands?|suicide)\b"),
    ("active_ideation", r"\b(?:close|so\s+close|this\s+close|near)\s+to\s+(?:ending|end)\s+(?:it|everything|things|my\s+life)\b"),
    ("active_ideation", r"\btried\s+(?:once|before|it\s+before|last\s+\w+)\b.{0,30}\b(?:trying\s+again|try\s+again|do\s+it\s+again)\b"),
    ("active_ideation", r"\b(?:ready|going)\s+to\s+die\b"),
    # passive ideation
    ("passive_ideation", r"\b(?:want|wanted|wanting|wanna)\s+(?:to\s+)?die\b|\bwish\s+(?:that\s+)?i\s+(?:could|would|'?d|might)\s+(?:just\s+)?die\b"),
    ("passive_ideation", r"\bwish(?:ed|ing)?\s+(?:that\s+)?i\s+(?:was|were|'?d\s+been|had\s+been)\s+dead\b"),
    ("passive_ideation", r"\bwish(?:ed|ing)?\s+(?:that\s+)?i(?:'?d|\s+had)?\s+never\s+(?:been\s+born|existed)\b|\bwish\s+i\s+(?:wasn'?t|weren'?t|was\s+never)\s+(?:born|alive)\b"),
    ("passive_ideation", r"\b(?:don'?t|do\s+not|dont)\s+" + _ADV + r"(?:want|wanna)\s+(?:to\s+)?(?:live|be\s+alive|exist|wake\s+up|be\s+here\s+any\s?(?:more|longer))\b"),
    ("passive_ideation", r"\b(?:relief|better|easier|peaceful)\s+(?:to\s+)?(?:not\s+exist|not\s+be\s+(?:here|alive)|be\s+dead|die)\b"),
    ("passive_ideation", r"\b(?:hope|hoping|wish|wishing|pray|praying)\s+(?:that\s+)?i\s+" + _ADV + r"(?:don'?t|dont|won'?t|wont|never)\s+wake\s+up\b"),
    ("passive_ideation", r"\b(?:sleep|go\s+to\s+sleep|fall\s+asleep)\s+(?:forever|and\s+(?:not|never)\s+wake\s+up)\b(?!\s+(?:until|till|before|for\s+(?:a|the|two|three|ten)\b))"),
    ("passive_ideation", r"\b(?:take|takes|let)\s+me\s+(?:die\s+)?in\s+my\s+sleep\b|\bdie\s+in\s+my\s+sleep\b"),
    ("passive_ideation", r"\b(?:rather|sooner)\s+be\s+dead\b"),
    ("passive_ideation", r"\btired\s+of\s+(?:being\s+alive|living|existing|life)\b"),
    ("passive_ideation", r"\b(?:not|isn'?t|no\s+longer)\s+worth\s+living\b"),
    ("passive_ideation", r"\bwhat'?s\s+(?:even\s+)?the\s+point\s+(?:of|in)\s+(?:living|being\s+alive|going\s+on|life)\b"),
    ("passive_ideation", r"\b(?:wouldn'?t|wouldnt|would\s+not)\s+(?:even\s+)?(?:care|mind)\s+if\s+i\s+(?:just\s+)?(?:died|was\s+dead|got\s+hit|stopped\s+existing|didn'?t\s+exist|(?:was|were)n'?t\s+(?:here|around|alive)\s*(?:any\s?more)?|was\s+gone|disappeared|never\s+woke\s+up)\b|\bif\s+i\s+died\s+\w+\s+i\s+(?:wouldn'?t|wouldnt)\b"),
    ("passive_ideation", r"\b(?:stop|stopped)\s+existing\b|\bcease\s+to\s+exist\b|\bnot\s+exist\s+at\s+all\b"),
    ("passive_ideation", r"\bif\s+(?:a\s+\w+|something|someone|somebody)\s+(?:hit|killed|ran\s+over)\s+me\b.{0,40}\b(?:wouldn'?t|wouldnt)\s+(?:mind|care)\b"),
    ("passive_ideation", r"\bwant\s+out\s+of\s+(?:this\s+)?life\b|\bif\s+i\s+(?:was|were)\s+gone\b(?!\s+for\s+(?:the|a)\b)"),
    ("passive_ideation", r"\b(?:disappear\w*|stop|vanish\w*)\s+(?:for\s+good|permanently|forever)\b|\bbeing\s+dead\s+would\b"),
    ("passive_ideation", r"\b(?:dying|death|being\s+dead)\s+(?:seems|sounds|feels|would\s+be|is)\s+(?:so\s+much\s+)?better\b|\b(?:dying|death|being\s+dead|not\s+existing|not\s+being\s+here)\s+(?:seems|sounds|feels|looks)\s+(?:\w+\s+){0,2}?(?:peaceful|nice|appealing|tempting|like\s+a\s+relief|easier|comforting|inviting)\b"),
    ("passive_ideation", r"\b(?:being\s+alive|living|existing|my\s+life)\s+(?:feels|is)\s+(?:like\s+)?(?:a\s+)?(?:punishment|torture|unbearable)\b"),
    ("passive_ideation", r"\b(?:wouldn'?t|wouldnt|would\s+not)\s+(?:even\s+)?(?:care|mind)\s+if\s+(?:the\s+(?:plane|car|bus|train)\s+(?:went\s+down|crashed)|i\s+(?:didn'?t|never)\s+(?:wake|woke|come\s+back|make\s+it)|something\s+(?:happened|bad\s+happened)\s+to\s+me)\b"),
    ("passive_ideation", r"\b(?:envy|jealous\s+of)\s+(?:people|those|anyone|the\s+ones|everyone)\s+who\s+(?:get\s+to\s+)?(?:die|are\s+dead|died|don'?t\s+wake\s+up)\b|\bwelcome\s+death\b|\bdeath\s+would\s+be\s+(?:a\s+)?(?:welcome|relief|mercy|gift)\b"),
    ("passive_ideation", r"\bonly\s+(?:way\s+out|escape|option|answer)\s+(?:left\s+)?(?:for\s+me\s+)?(?:is|would\s+be)\s+(?:to\s+)?(?:not\s+(?:exist|be\s+here|be\s+alive)|die|death|dying|ending\s+it|suicide|end\s+it)\b"),
    ("passive_ideation", r"\bhop(?:e|es|ing)\s+(?:that\s+)?i\s+(?:crash|get\s+hit|don'?t\s+make\s+it|never\s+come\s+back|die)\b"),
    ("passive_ideation", r"\b(?:hop(?:e|es|ing)|wish(?:ing)?|pray(?:ing)?)\s+(?:that\s+)?my\s+heart\s+(?:would\s+)?(?:just\s+)?(?:stops|stop|gives\s+out|gave\s+out)\b|\b(?:i'?m|im|i\s+am)\s+not\s+waking\s+up\s+(?:tomorrow|again|in\s+the\s+morning)\b"),
    ("active_ideation", r"\bend\s+(?:the|this|my)\s+pain\s+(?:forever|for\s+good|permanently|once\s+and\s+for\s+all)\b"),
    # hopelessness and burden
    ("hopelessness_burden", r"\b(?:i'?m|im|i\s+am|feel\s+like|being)\s+(?:such\s+|just\s+|nothing\s+but\s+|only\s+|a\s+huge\s+)?(?:a\s+)?burden\b"),
    ("hopelessness_burden", r"\b(?:better\s+off|happier|free|relieved)\s+(?:without\s+me|if\s+i\s+(?:was|were)(?:n'?t|\s+not)\b|if\s+i\s+was\s+gone|when\s+i'?m\s+gone)"),
    ("hopelessness_burden", r"\b(?:i'?d|i\s+would)\s+be\s+better\s+off\s+(?:gone|dead)\b|\bbetter\s+off\s+(?:dead|gone)\b"),
    ("hopelessness_burden", r"\b(?:world|everyone|everybody)\s+would\s+be\s+better\s+(?:off\s+)?without\s+me\b"),
    ("hopelessness_burden", r"\bno\s+(?:hope|future)\s+(?:left\s+)?(?:for\s+me|left)\b|\blost\s+all\s+hope\b|\bthere'?s\s+no\s+hope\s+for\s+me\b"),
    ("hopelessness_burden", r"\bnothing\s+(?:left\s+)?to\s+live\s+for\b|\bno\s+reason\s+(?:for\s+me\s+)?to\s+(?:live|keep\s+going|go\s+on|be\s+alive|stay)\b"),
    ("hopelessness_burden", r"\b(?:don'?t|dont|do\s+not)\s+deserve\s+to\s+(?:live|be\s+alive|exist)\b"),
    ("hopelessness_burden", r"\bno\s+point\s+in\s+(?:me|living|going\s+on|being\s+alive)\b"),
    ("hopelessness_burden", r"\bcan'?t\s+go\s+on\b|\bcan'?t\s+take\s+(?:it\s+|this\s+)?any\s?(?:more|longer)\b|\bcannot\s+go\s+on\b|\bcant\s+go\s+on\b|\bno\s+way\s+out\b|\bwaste\s+of\s+(?:space|oxygen|air|skin|a\s+life|a\s+human)\b|\b(?:what'?s|whats)\s+(?:even\s+)?the\s+point\s+(?:of|in)\s+me\b"),
    ("hopelessness_burden", r"\bcan'?t\s+see\s+(?:a|any)\s+future\b|\bnothing\s+(?:in\s+my\s+life\s+)?(?:will|is\s+(?:ever\s+)?going\s+to|is\s+gonna)\s+(?:ever\s+)?get\s+better\b"),
    ("hopelessness_burden", r"\b(?:nobody|no\s+one|no-one)\s+(?:really\s+)?(?:needs|wants|would\s+miss|cares\s+about)\s+me\b|\b(?:i'?m|im|i\s+am)\s+(?:just\s+)?in\s+(?:the|everyone'?s|everybody'?s)\s+way\b"),
    ("hopelessness_burden", r"\bdragging\s+(?:everyone|everybody|them|you\s+all|my\s+family)\s+down\b|\btoo\s+broken\b|\bbeyond\s+(?:help|saving|repair)\b|\bpast\s+saving\b"),
    ("hopelessness_burden", r"\bno\s+point\s+in\s+(?:anything|any\s+of\s+it|going\s+on|living)\b"),
    ("hopelessness_burden", r"\bnothing\s+(?:left\s+)?to\s+look\s+forward\s+to\b|\bweight\s+(?:around|on)\s+(?:everyone|everybody|my\s+family)\b|\b(?:everything|life|my\s+life)\s+is\s+hopeless\b|\bi\s+feel\s+(?:so\s+)?hopeless\b"),
    ("hopelessness_burden", r"\bgiven\s+up\s+on\s+(?:life|living|everything)\b|\bcan'?t\s+live\s+with\s+(?:myself|what\s+i)\b"),
    ("hopelessness_burden", r"\b(?:i'?m|im|i\s+am|being|feel\s+like)\s+(?:\w+\s+)?(?:a|the)\s+(?:problem|nuisance|millstone)\s+(?:for|to|on|that)\s+(?:everyone|everybody|people|my\s+\w+|them|all\s+of\s+them)\b|\b(?:i'?m|im|i\s+am|being)\s+(?:\w+\s+)?(?:a|the)\s+problem\s+(?:everyone|everybody|people)\s+(?:has|have)\s+to\b"),
    ("hopelessness_burden", r"\b(?:a\s+)?drain\s+on\s+(?:everyone|everybody|my\s+\w+|them|you|people|the\s+\w+)\b|\bno\s+light\s+at\s+the\s+end\s+of\s+(?:the|my|this)\s+tunnel\b"),
    ("hopelessness_burden", r"\b(?:weight|burden|millstone)\s+(?:that\s+)?(?:everyone|everybody|they|my\s+family|people)\s+(?:is|are|has\s+to|have\s+to)\s+(?:carrying|carry|drag\w*)\b"),
    ("hopelessness_burden", r"\b(?:i'?m|im|i\s+am|feel|feeling)\s+(?:so\s+|completely\s+|totally\s+|utterly\s+)?trapped\b(?!\s+(?:in|at|on|under|behind)\s+(?:the|a|this|traffic|work))|\bno\s+way\s+(?:this|it)\s+ends\s+well\b"),
    # danger to others: an intent (not "could") and a person as the object
    ("harm_others", rf"\b{_WILL}\s+(?:\w+\s+)?(?:kill|stab|shoot|strangle|choke|poison|murder|hurt|beat|run\s+\w+\s+over)\s+(?:him|her|them|my\s+(?:\w+\s+)?(?:ex|wife|husband|partner|boss|mum|mom|mother|dad|father|stepdad|stepfather|brother|sister|baby|son|daughter|kids?|children|teacher|coworkers?|neighbou?r)|every\s+one|everyone|somebody|someone|people|the\s+(?:guy|man|woman|people))\b(?!\s+(?:in|at)\s+the\s+(?:match|game|final|race|quiz))"),
    ("harm_others", r"\bshoot\s+up\s+(?:my|the|a|our)\s+(?:\w+\s+)?(?:school|office|work|church|mall|college|class)\b|\bgun\s+to\s+(?:school|work)\b"),
    ("harm_others", r"\burges?\s+to\s+(?:push|hurt|kill|stab|harm)\s+(?:people|someone|somebody|him|her|them|my)\b"),
    ("harm_others", r"\bburn\s+(?:his|her|their)\s+house\s+down\b|\bhow\s+i\s+would\s+kill\s+(?:him|her|them)\b"),
    ("harm_others", r"\b(?:want|wanna|feel\s+like|thought\s+about)\s+(?:to\s+)?(?:hurt|hurting|killing|kill)\s+(?:the\s+baby|my\s+baby|my\s+kids?|my\s+children|someone|somebody|anyone|people)\b"),
    ("harm_others", r"\bwant\s+(?:him|her|them)\s+to\s+(?:suffer|die)\b|\bput\s+something\s+in\s+(?:his|her|their)\s+(?:drink|food|coffee|tea)\b"),
    ("harm_others", r"\b(?:scared|afraid|worried|terrified)\s+(?:that\s+)?i\s+(?:might|will|'?ll|could)\s+(?:hurt|harm|kill)\s+(?:my|the|him|her|them|someone|somebody)\b"),
    ("harm_others", r"\btake\s+(?:my|the)\s+kids\s+with\s+me\b|\b(?:knife|gun)\s+to\s+(?:stab|shoot|kill|hurt)\b"),
    ("harm_others", rf"\b{_WILL}\s+run\s+(?:him|her|them)\s+over\b|\b(?:fantasi[sz]e|fantasi[sz]ing|think|thinking|thought|imagine|imagining|picture|picturing|dream\w*)\s+(?:about\s+|of\s+)?(?:killing|hurting|stabbing|shooting|strangling|smothering|suffocating|drowning|poisoning|choking)\s+(?:him|her|them|people|someone|everyone|the\s+(?:people|baby|kids)|my\s+(?:\w+\s+)?(?:coworkers|boss|wife|husband|ex|family|parents|baby|son|daughter|kids?|children|mum|mom|mother|dad|father|partner|flatmate|brother|sister))\b"),
    ("harm_others", r"\b(?:gun|guns|rifle|knife|knives|weapons?)\b.{0,40}\blist\s+of\s+(?:names|people|targets)\b|\b{_WILL}\s+(?:\w+\s+)?(?:hurt|kill|shoot|stab)\s+the\s+(?:kids|people|students|teachers|lads|girls|boys)\s+(?:at|in|from|who)\b".replace("{_WILL}", _WILL)),
]

# The reply is screened too: the model urging self-harm is as bad as the user describing it.
_REPLY_ONLY: list[tuple[str, str]] = [
    ("active_ideation", r"\bkill\s+your\s?self\b|\bkys\b|\bend\s+your\s+(?:own\s+)?life\b"),
    ("self_injury", r"\b(?:hurt|harm|cut)\s+your\s?self\b"),
]

SEVERITY = ("plan_timing", "preparatory", "method_means", "self_injury", "active_ideation",
            "harm_others", "passive_ideation", "hopelessness_burden")

# A negation shortly before the match, in the same clause ("I'm not suicidal", "I would never hurt myself").
_NEGATION = re.compile(
    r"\b(?:not|never|no\s+longer|don'?t|dont|do\s+not|didn'?t|didnt|won'?t|wont|wouldn'?t|wouldnt|isn'?t|"
    r"aren'?t|haven'?t|havent|hasn'?t|hadn'?t|used\s+to|no\s+(?:thoughts?|plans?|urges?|intention)\s+(?:of|to|about))\b"
    r"(?:\s+\S+){0,4}\s*$|\bno\s+$")
# "I used to cut myself, not anymore"; "clean from self harm"; recovered, not current
_OVER_AFTER = re.compile(r"^\W*(?:\S+\s+){0,6}?(?:any\s?more|any\s+longer|ages\s+ago|years\s+ago|in\s+(?:the\s+)?past)\b")
_RECOVERED = re.compile(r"\b(?:clean\s+from|recover\w*\s+from|free\s+(?:of|from)|years?\s+clean|months?\s+clean)\s+(?:\w+\s+)?$")
# A topic, not a statement: "suicide prevention", "self-harm awareness", "suicide rates"
_TOPIC_AFTER = re.compile(r"^[\s-]*(?:prevention|awareness|hotlines?|helplines?|lines?|rates?|statistics|research|"
                          r"storylines?|plots?|scenes?|episodes?|risk\b|first\s+aid|"
                          r"month|day|week|walk|squad|mission|questions?|signs|risk\s+assessment|in\s+the\s+trenches|deaths?)\b")
_MEDIA_BEFORE = re.compile(
    r"\b(?:podcasts?|episodes?|documentar(?:y|ies)|doc|articles?|essays?|films?|movies?|shows?|series|songs?|lyrics|"
    r"books?|novels?|memoirs?|biograph(?:y|ies)|autobiograph(?:y|ies)|blogs?|vlogs?|poems?|plays?|lectures?|training|course|module|class|lessons?|news|study|studies|research|"
    r"talk|campaign|fundraiser|game|character|villain|hero|story|chapter|degree|thriller|drama|comedy|sitcom|"
    r"cartoon|anime|comic|detective|dissertation|thesis|assignment|coursework|presentation|seminar|webinar|project)\b"
    r"(?:\s+\S+){0,6}?\s+(?:about|on|called|titled|named|where|says|said|goes|sings|in\s+which|ends\s+with|starts\s+with|opens\s+with|with|had|has|showed|shows|features?|featured|depicts?|depicted)\b")
_MEDIA_SUBJECT = re.compile(r"\b(?:line\s+of\s+(?:the|a|that)\s+(?:play|song|poem|book|film|movie|show)|in\s+(?:the|my|this|that)\s+(?:show|film|movie|game|book|play|novel|series|episode|story)|"
                            r"in\s+romeo\s+and\s+juliet|the\s+(?:main\s+)?character|the\s+villain)\b")
# Someone else speaking: "he said", "the character says", unless "I" speaks again after it
_REPORTED = re.compile(r"\b(?!(?:i|and|then|so|just|also|finally|even|i'?ve|ive)\b)(\w+)\s+(?:said|says|told\s+\w+|asked|yelled|screamed|shouted|joked|texted|wrote|goes|sings|sang|talked\s+about|spoke\s+about|mentioned|described|shared)\b(.*)$")
_FIRST_PERSON = re.compile(r"\b(?:i|i'?m|im|i'?ve|ive|i'?d|id|i'?ll|me|my)\b")
# Someone asking: "the doctor asked if I'd ever wanted to hurt myself" (the answer is elsewhere)
_QUESTION = re.compile(r"\b(?:asked|asks|asking|ask)\s+(?:me\s+|us\s+)?(?:if|whether|about)\b|"
                       # a lesson on the topic: "we learned about self harm in first aid"
                       r"\b(?:learn(?:ed|t|ing)?|taught|teaching)\s+(?:\w+\s+)?about\s+$|"
                       r"\b(?:psychology|history|science|stigma|topic|statistics|signs|effects)\s+of\s+$|"
                       # someone else's death: "her brother died by suicide", "lost a friend to suicide"
                       r"\b(?:died|death|dies|passed)\s+(?:by|from|of)\s+$|\b(?:lost|losing)\s+(?:\w+\s+){0,3}to\s+$")
# Idioms and accidents that look like a hit
# "Suicide isn't something I'd ever consider": the negation comes after the words
_NEG_AFTER = re.compile(r"^\W*(?:is\s*n'?t|isnt|is\s+not|was\s*n'?t|wasnt|was\s+never|is\s+never)\s+"
                        r"(?:something|an\s+option|on\s+my\s+mind|a\s+thought|in\s+my\s+head)\b")
_IDIOM_AFTER = re.compile(r"^\W*(?:laughing|with\s+laughter|tripping|falling|trying\s+to|lifting|at\s+the\s+gym|"
                          r"for\s+(?:eating|using|taking|borrowing|losing|breaking|wearing|drinking|finishing|forgetting)\b|"
                          r"working|shaving|cooking|chopping|by\s+accident|accidentally|in\s+the\s+foot|(?:\S+\s+){0,3}(?:as\s+a\s+joke|jokingly)|"
                          r"(?:\w+\s+){0,3}(?:by\s+accident|accidentally|playing|at\s+the\s+gym|on\s+the\s+stairs))\b")
_IDIOM_BEFORE = re.compile(r"\b(?:nearly|almost|practically|basically|literally\s+almost|could\s+have|bungee|bungy)\s+$")


@dataclass(frozen=True)
class PatternHit:
    """One explicit phrase that fired: its category and the words that matched."""

    category: str
    matched: str
    rule: str  # "<category>:<index>" so a hit can be traced to its pattern


def _compile(items: list[tuple[str, str]]) -> list[tuple[str, str, re.Pattern]]:
    out = []
    counts: dict[str, int] = {}
    for category, pattern in items:
        counts[category] = counts.get(category, 0) + 1
        out.append((category, f"{category}:{counts[category]}", re.compile(pattern)))
    return out


_COMPILED = _compile(_PATTERNS)
_COMPILED_REPLY = _compile(_PATTERNS + _REPLY_ONLY)
# One pass of every pattern at once: most sentences hold none, and then the ~90 separate
# searches (and their context checks) are skipped; a reply is re-read at every token.
_ANY = re.compile("|".join(f"(?:{p})" for _, p in _PATTERNS))
_ANY_REPLY = re.compile("|".join(f"(?:{p})" for _, p in _PATTERNS + _REPLY_ONLY))
_SPLIT = re.compile(r"[.!?;:\n]+|,\s*(?:but|and|so)?\s*|\s+but\s+|\s+though\s+")


def normalise(text: str) -> str:
    """Lower case, straight apostrophes and quotes, single spaces: typed and ASR text match alike."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r'"[^"]{1,200}"', text)]


def _cancelled(text: str, start: int, end: int, quotes: list[tuple[int, int]]) -> bool:
    """True when the match at text[start:end] is negated, over, quoted, reported, a topic or an idiom."""
    if any(a <= start and end <= b for a, b in quotes):
        return True
    clause = _SPLIT.split(text[:start])[-1]  # "I'm not okay, I want to die" must still fire
    after = text[end:end + 60]
    if _NEGATION.search(clause) or _RECOVERED.search(clause) or re.search(r"\b(?:stopped|quit)\s+$", clause):
        return True
    if _QUESTION.search(clause):
        return True
    if _OVER_AFTER.match(after) and re.search(r"\b(?:used\s+to|in\s+the\s+past|was|were)\b", clause + " " + after[:30]):
        return True
    if _TOPIC_AFTER.match(after) or _IDIOM_AFTER.match(after) or _IDIOM_BEFORE.search(clause) or _NEG_AFTER.match(after):
        return True
    sentence = re.split(r"[.!?\n]", text[:start])[-1]
    if _MEDIA_BEFORE.search(sentence) or _MEDIA_SUBJECT.search(sentence):
        return True
    reported = _REPORTED.search(clause)
    if reported and not _FIRST_PERSON.search(reported.group(2)) and not _FIRST_PERSON.match(reported.group(1)):
        return True
    return False


def find_patterns(text: str | None, reply: bool = False) -> list[PatternHit]:
    """Every explicit phrase in `text` that no context cancels, most severe category first."""
    return scan(text, reply)[0]


def scan(text: str | None, reply: bool = False) -> tuple[list[PatternHit], list[PatternHit]]:
    """(live hits, cancelled hits): the cancelled ones tell the classifier to stand back.

    A sentence whose crisis words were negated or quoted ("I would never hurt myself") still
    carries those words, and an n-gram model cannot read the negation; where the patterns
    saw the words and judged the context, that judgement stands (detector.py).
    """
    if not text:
        return [], []
    norm = normalise(text)
    if not (_ANY_REPLY if reply else _ANY).search(norm):
        return [], []
    quotes = _quoted_spans(norm)
    hits, cancelled = [], []
    for category, rule, pattern in (_COMPILED_REPLY if reply else _COMPILED):
        for m in pattern.finditer(norm):
            if _cancelled(norm, m.start(), m.end(), quotes):
                cancelled.append(PatternHit(category, m.group(0), rule))
            else:
                hits.append(PatternHit(category, m.group(0), rule))
                break
    hits.sort(key=lambda h: SEVERITY.index(h.category))
    return hits, cancelled


def find_crisis(text: str | None, reply: bool = False) -> str | None:
    """The words of the most severe explicit crisis phrase in `text`, or None (the pattern layer only)."""
    hits = find_patterns(text, reply=reply)
    return hits[0].matched if hits else None
