"""Reference values for evaluation-scorer.unit.spec.ts. Run in a throwaway venv (pycocoevalcap
ships the Stanford CoreNLP 3.4.1 jar its PTBTokenizer runs on; it needs java on the PATH):

    python3 -m venv /tmp/v && /tmp/v/bin/pip install sacrebleu==2.6.0 pycocoevalcap==1.2
    /tmp/v/bin/python services/registry/src/evaluation/scoring/evaluation-scorer.reference.py

The captions are those of libs/ml/src/metrics/fixtures/make-reference-values.py (the BLEU and
CIDEr-D fixtures), here scored end to end as COCO scores captions: raw text through PTBTokenizer,
then Cider. VQA values are the official script's, in libs/ml/src/metrics/vqa.unit.spec.ts.
"""
import json

import sacrebleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

print("sacrebleu", sacrebleu.__version__)

HYPS = [
    "The cat sat on the mat.",
    "A small round opacity in the left lower lobe.",
    "No acute findings",
    "It's 3.14 -- isn't it? &quot;yes&quot; (maybe) 1,000,000 items; 5-6 days",
    "Heart size normal, lungs clear.",
    "the the the the the",
]
REFS1 = [
    "The cat is sitting on the mat.",
    "There is a small round opacity in the left lower lobe.",
    "No acute cardiopulmonary findings.",
    'It is 3.14, isn\'t it? "yes" (maybe) 1,000,000 items; 5-6 days',
    "Heart size is normal and the lungs are clear.",
    "the cat",
]
REFS2 = [
    "A cat sat on the mat.",
    "Small rounded opacity, left lower lobe.",
    "No acute findings.",
    "It's 3.14 - isn't it?",
    "Normal heart size; clear lungs.",
    "there is a cat on the mat",
]
# Captions that exercise the tokenizer's rules (case, punctuation, quotes, brackets, clitics,
# abbreviations, numbers, entities, ellipses).
PTB_CASES = [
    "It isn't RED, it's blue-ish!",
    "Two dogs (playing) in the snow; outside.",
    "The U.S. flag: red/white & blue?",
    "A 3.14 cm nodule, 1,000 items",
    "They're here, we'll go, I'd say I'm done, you've won, can't won't",
    "left [lower] lobe {x}",
    "a  b\tc",
    "e.g. this",
    "the dogs' bones",
    "He said: 'fine'.",
    "Hello...world",
    "x &lt; y &gt; z &amp; it&apos;s",
    "Is it 5? Yes!",
    "x-ray: clear",
]


def ptb(captions):
    out = PTBTokenizer().tokenize({str(i): [{"caption": c}] for i, c in enumerate(captions)})
    return [out[str(i)][0] for i in range(len(captions))]


def cider(hyps, refs):
    gts = PTBTokenizer().tokenize({str(i): [{"caption": r} for r in rs] for i, rs in enumerate(refs)})
    res = PTBTokenizer().tokenize({str(i): [{"caption": h}] for i, h in enumerate(hyps)})
    score, scores = Cider().compute_score(gts, res)
    return {"score": float(score), "scores": [float(s) for s in scores]}


# libs/ml's CIDEr-D fixture: already tokenized, and with 2 to 4 references per image (sacrebleu
# takes None where an image has fewer references than the most).
GTS = [
    ["a cat sitting on a mat", "the cat is on the mat", "a cat on a mat in a room"],
    ["a chest x ray with a small round opacity", "small opacity in the left lower lobe", "chest radiograph showing a nodule"],
    ["two dogs playing in the snow", "dogs running through snow", "a pair of dogs play outside in the snow", "two dogs in snow"],
    ["a man riding a bike", "a person on a bicycle on the street"],
]
RES = ["a cat on the mat", "a small round opacity in the left lower lobe", "two dogs in the snow", "a dog on a mat"]
UNEVEN = [[g[k] if k < len(g) else None for g in GTS] for k in range(max(map(len, GTS)))]

out = {
    "ptb": ptb(PTB_CASES),
    "bleu_two_refs": sacrebleu.corpus_bleu(HYPS, [REFS1, REFS2]).score,
    "bleu_one_ref": sacrebleu.corpus_bleu(HYPS, [REFS1]).score,
    "cider_raw_two_refs": cider(HYPS, [[a, b] for a, b in zip(REFS1, REFS2)]),
    "cider_raw_one_ref": cider(HYPS, [[a] for a in REFS1]),
    "bleu_uneven_refs": sacrebleu.corpus_bleu(RES, UNEVEN).score,
    "ptb_of_tokenized_fixture_is_identity": ptb(RES) == RES and all(ptb(g) == g for g in GTS),
    "cider_tokenized_fixture": cider(RES, GTS),
}
print(json.dumps(out, indent=1))
